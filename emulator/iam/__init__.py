"""IAM: patches of moto's IAM (trust-policy actions, CloudFormation inline-policy JSON: trust.py, applied
when the package is imported)."""

from emulator.iam import trust  # noqa: F401
