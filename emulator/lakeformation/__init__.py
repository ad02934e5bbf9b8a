"""AWS Lake Formation, which moto models too loosely: resources, settings, grants (importing the package
registers the handlers, responses.py; state in models.py, grant matching in permissions.py, errors in
exceptions.py)."""

from emulator.lakeformation import responses  # noqa: F401
