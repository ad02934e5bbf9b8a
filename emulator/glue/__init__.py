"""AWS Glue: the catalogs moto lacks, and the federated ``s3tablescatalog`` reads (importing the package
registers the handlers, responses.py; state in models.py, errors in exceptions.py)."""

from emulator.glue import responses  # noqa: F401
