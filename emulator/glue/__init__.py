"""AWS Glue: the catalogs moto lacks, and the federated ``s3tablescatalog`` reads (importing the package
registers the handlers, models.py)."""

from emulator.glue import models  # noqa: F401
