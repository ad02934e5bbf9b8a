"""CloudFormation resource types moto lacks or gets wrong, one module per resource family.

Importing a family's module registers what it defines (``CloudFormationModel`` subclasses) or patches
(moto's own models); emulator/cloudformation/__init__.py imports this package and then clears moto's model
caches. A new family is one module here and its name in ``FAMILIES``. ``iam`` is not listed: it registers
nothing, the engine calls it after moto's in-place updates.
"""

from __future__ import annotations

import importlib

FAMILIES = (
    "s3tables",
    "logs",
    "s3",
    "kms",
    "lambda_",
    "secretsmanager",
    "cloudwatch",
    "sns",
    "athena",
    "managed_policy",
    "scheduler",
)

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
