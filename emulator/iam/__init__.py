"""Patches of moto's IAM: trust-policy actions and CloudFormation inline-policy JSON (trust.py)."""
