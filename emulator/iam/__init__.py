"""IAM: patches of moto's IAM (trust-policy actions, CloudFormation inline-policy JSON: trust.py, applied
when the package is imported), and the judging of a Lambda function's calls by its role (calls.py)."""

from emulator.iam import calls, trust  # noqa: F401
