"""AWS Lake Formation, which moto models too loosely: resources, settings, grants (importing the package
registers the handlers, responses.py; state in models.py, grant matching in permissions.py, errors in
exceptions.py). It also answers Glue's questions about grants (emulator/glue/access.py)."""

from emulator.glue.access import Authority, set_authority
from emulator.lakeformation import models, responses  # noqa: F401

set_authority(Authority(models.permissions_on, models.is_admin))
