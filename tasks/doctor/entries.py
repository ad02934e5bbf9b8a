"""The bash scripts' Troubleshooting entries, the Firehose error code -> entry mapping, and the fix commands.

In one place: doctor's checks (tasks/doctor/checks.py) and verify/ name the same entry for a cause.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tasks.config import Config

# -- the bash scripts' Troubleshooting entries (aws-s3tables-firehose-setup.md), by heading -----------------
ENTRY_GLUE_PERMISSIONS = '"Insufficient Glue permissions to access database"'
ENTRY_ASSUME_ROLE = '"Unable to assume role" / "Unable to retrieve credentials from Lake Formation"'
ENTRY_CATALOG_NOT_FOUND = '"Catalog not found"'
ENTRY_APPEND_ONLY = 'Firehose stream shows "AppendOnly: false"'
# Not a Troubleshooting heading: the bash scripts' "LakeFormation Permissions" deploy stage (grants to the
# Firehose role). Without them Firehose cannot read the table through the catalog.
ENTRY_FIREHOSE_GRANTS = "LakeFormation Permissions (the Firehose role's grants)"
# Not a troubleshooting entry: the stack's Firehose role lacks an IAM permission a delivery needs
# (Firehose evaluates its policies at every delivery; a statement removed outside CloudFormation is not
# repaired by it).
ENTRY_FIREHOSE_ROLE_POLICY = "Firehose role IAM policy (the stack's FirehoseRole)"
# Not a troubleshooting entry: a record does not fit the table contract (config/schemas/).
ENTRY_RECORD_SHAPE = "record does not match the table contract (config/schemas/SIGNAL.yaml)"

# Firehose writes failed records to the error bucket with an `errorCode`. There is no official list
# (aws-facts.md): exact codes first, then the family a code's name belongs to. Codes only, never messages.
ERROR_CODE_ENTRIES: dict[str, str] = {
    "Iceberg.MissingColumnWithinRecord": ENTRY_RECORD_SHAPE,
    "Iceberg.InvalidRecordFormat": ENTRY_RECORD_SHAPE,
    "Iceberg.DataTypeMismatch": ENTRY_RECORD_SHAPE,
    "Iceberg.InvalidTimestamp": ENTRY_RECORD_SHAPE,  # not integer epoch microseconds
    "Iceberg.UnknownColumnWithinRecord": ENTRY_RECORD_SHAPE,  # a key that is not a column
    "Iceberg.InvalidUniqueKeys": ENTRY_APPEND_ONLY,  # unique keys only apply without AppendOnly
    "Iceberg.RoleAssumptionFailed": ENTRY_ASSUME_ROLE,
    "Iceberg.InsufficientLakeFormationPermissions": ENTRY_FIREHOSE_GRANTS,
    "Iceberg.AccessDenied": ENTRY_FIREHOSE_GRANTS,
    # Through Lake Formation, a table the role may not see is reported as missing.
    "Iceberg.NoSuchTable": ENTRY_GLUE_PERMISSIONS,
    "Iceberg.InvalidCatalogARN": ENTRY_CATALOG_NOT_FOUND,
    "Iceberg.CatalogNotFound": ENTRY_CATALOG_NOT_FOUND,
    "Glue.AccessDenied": ENTRY_GLUE_PERMISSIONS,
    "CloudWatchLogs.AccessDenied": ENTRY_FIREHOSE_ROLE_POLICY,
    "S3.AccessDenied": ENTRY_ASSUME_ROLE,
}
_CODE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("catalog", ENTRY_CATALOG_NOT_FOUND),
    ("assumerole", ENTRY_ASSUME_ROLE),
    ("credential", ENTRY_ASSUME_ROLE),
    ("lakeformation", ENTRY_FIREHOSE_GRANTS),
    ("permission", ENTRY_FIREHOSE_GRANTS),
    ("accessdenied", ENTRY_GLUE_PERMISSIONS),
    ("glue", ENTRY_GLUE_PERMISSIONS),
    ("column", ENTRY_RECORD_SHAPE),
    ("schema", ENTRY_RECORD_SHAPE),
    ("record", ENTRY_RECORD_SHAPE),
)


def troubleshooting_entry(error_code: str) -> str:
    """The troubleshooting entry that applies to a Firehose delivery error code."""
    if error_code in ERROR_CODE_ENTRIES:
        return ERROR_CODE_ENTRIES[error_code]
    folded = error_code.lower().replace("_", "").replace("-", "")
    for word, entry in _CODE_FAMILIES:
        if word in folded:
            return entry
    return "no troubleshooting entry matches this code: run `doit doctor` to check every listed cause"


def logged_errors(logs: Any, config: Config, signal: str, since: datetime) -> Counter[str]:
    """errorCode -> failed attempts, from the stream's CloudWatch Logs events since `since`.

    Firehose logs every failed attempt there, also while it is still retrying (RetryOptions), long before
    anything reaches the error bucket: the only place the cause shows inside verify's deadline.
    """
    codes: Counter[str] = Counter()
    kwargs: dict[str, Any] = {
        "logGroupName": config.log_group_name,
        "logStreamName": config.log_stream_name(signal),
        "startTime": int(since.timestamp() * 1000),
        "startFromHead": True,
    }
    try:
        while True:
            page = logs.get_log_events(**kwargs)
            for event in page.get("events", []):
                try:
                    msg = json.loads(event.get("message", ""))
                except ValueError:
                    continue
                if isinstance(msg, dict) and msg.get("errorCode"):
                    codes[str(msg["errorCode"])] += 1
            token = page.get("nextForwardToken")
            if not page.get("events") or token == kwargs.get("nextToken"):
                return codes
            kwargs["nextToken"] = token
    except ClientError:  # no log stream yet, or no permission to read it: nothing to show
        return codes


def describe_codes(codes: Counter[str]) -> str:
    return ", ".join(
        f"errorCode {code} in {n} attempt(s) -> troubleshooting: {troubleshooting_entry(code)}"
        for code, n in codes.most_common()
    )


# -- fixes: the exact command ----------------------------------------------------------------------


def _overrides_args(overrides: dict[str, str] | None) -> str:
    return "".join(f" {k}={v}" for k, v in sorted((overrides or {}).items()) if k != "env")


def deploy_command(config: Config, overrides: dict[str, str] | None = None, *, repair: bool = False) -> str:
    """`doit deploy env=ENV` plus the settings the user gave on the command line, so it hits the same env."""
    return f"doit deploy env={config.env}{_overrides_args(overrides)}{' repair=1' if repair else ''}"


# -- findings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One checked cause: OK, or what was found and the command that fixes it."""

    entry: str
    cause: str
    ok: bool
    found: str = ""
    fix: str = ""

    def lines(self) -> list[str]:
        if self.ok:
            return [f"  OK    {self.cause}"]
        return [f"  FAIL  {self.cause}", f"        found: {self.found}", f"        fix:   {self.fix}"]


ENTRY_STACK = "CloudFormation stack"
