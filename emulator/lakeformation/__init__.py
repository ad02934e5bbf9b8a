"""AWS Lake Formation, which moto models too loosely: resources, settings, grants (importing the package
registers the handlers, models.py)."""

from emulator.lakeformation import models  # noqa: F401
