"""Secrets Manager additions: the ``AWS::SecretsManager::Secret`` CloudFormation type (moto has none)."""

from __future__ import annotations

from emulator.secretsmanager import cfn as cfn
