"""S3 Tables table maintenance (GetTableMaintenanceConfiguration / PutTableMaintenanceConfiguration),
which moto lacks.

A new table starts with AWS's documented defaults (S3 User Guide, "Maintenance for tables"): compaction
enabled with a 512 MB target file size, snapshot management enabled keeping at least 1 snapshot for up to
120 hours. Put replaces one type's entry; the value is checked against the botocore shapes (enum values,
unknown members: ``BadRequestException``), its settings must be the union member of its type, and the
compaction target must be 64-512 MB (the documented range). The configuration lives on moto's table object,
so it goes with a deleted table and stays through a rename. The CloudFormation type sets it from the
resource's ``Compaction`` and ``SnapshotManagement`` (resources/s3tables.py).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.s3tables.models import Table

from emulator.core import validation
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.s3tables.exceptions import BadRequestError, NotFoundError
from emulator.s3tables.models import backend

COMPACTION = "icebergCompaction"
SNAPSHOTS = "icebergSnapshotManagement"
TARGET_FILE_MB = (64, 512)
_lock = threading.Lock()


def defaults() -> dict[str, Any]:
    return {
        COMPACTION: {
            "status": "enabled",
            "settings": {COMPACTION: {"targetFileSizeMB": 512, "strategy": "auto"}},
        },
        SNAPSHOTS: {
            "status": "enabled",
            "settings": {SNAPSHOTS: {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120}},
        },
    }


def _config(table: Table) -> dict[str, Any]:
    found = getattr(table, "_emulator_maintenance", None)
    if found is None:
        found = defaults()
        table._emulator_maintenance = found  # type: ignore[attr-defined]
    return dict(found)


def lookup(account_id: str, region: str, bucket_arn: str, namespace: str, name: str) -> Table:
    """The table, or ``NotFoundException`` naming what is missing (bucket, namespace or table)."""
    bucket = backend(account_id, region).table_buckets.get(bucket_arn)
    if bucket is None:
        raise NotFoundError("The specified bucket does not exist.")
    ns = bucket.namespaces.get(namespace)
    if ns is None:
        raise NotFoundError("The specified namespace does not exist.")
    table = ns.tables.get(name)
    if table is None:
        raise NotFoundError("The specified table does not exist.")
    return table


def put(table: Table, kind: str, value: dict[str, Any]) -> None:
    """Check ``value`` as AWS does, then replace the entry of ``kind``."""
    validation.check("s3tables", "TableMaintenanceType", kind, "type", code="BadRequestException")
    validation.check(
        "s3tables", "TableMaintenanceConfigurationValue", value, "value", code="BadRequestException"
    )
    settings = value.get("settings")
    if settings is not None and set(settings) != {kind}:
        raise BadRequestError(f"The settings of maintenance type {kind} must be {{{kind}: ...}}.")
    target = ((settings or {}).get(COMPACTION) or {}).get("targetFileSizeMB")
    if target is not None and not TARGET_FILE_MB[0] <= target <= TARGET_FILE_MB[1]:
        raise BadRequestError(
            f"targetFileSizeMB {target} is not valid: it must be between {TARGET_FILE_MB[0]} and "
            f"{TARGET_FILE_MB[1]}."
        )
    with _lock:
        current = _config(table)
        entry = copy.deepcopy(value)
        if settings is None:  # only the status: the settings stay
            entry["settings"] = current[kind].get("settings")
        elif kind == COMPACTION:  # the strategy not given is the default one
            entry["settings"][COMPACTION].setdefault("strategy", "auto")
        current[kind] = entry
        table._emulator_maintenance = current  # type: ignore[attr-defined]


def from_cloudformation(table: Table, props: dict[str, Any]) -> None:
    """``AWS::S3Tables::Table`` ``Compaction`` / ``SnapshotManagement`` as the API's configuration."""
    compaction = props.get("Compaction")
    if compaction:
        size = compaction.get("TargetFileSizeMB")
        settings = {"targetFileSizeMB": int(size)} if size is not None else {}
        put(
            table,
            COMPACTION,
            {"status": compaction.get("Status", "enabled"), "settings": {COMPACTION: settings}},
        )
    snapshots = props.get("SnapshotManagement")
    if snapshots:
        keys = {"MinSnapshotsToKeep": "minSnapshotsToKeep", "MaxSnapshotAgeHours": "maxSnapshotAgeHours"}
        settings = {api: int(snapshots[cfn]) for cfn, api in keys.items() if cfn in snapshots}
        put(
            table,
            SNAPSHOTS,
            {"status": snapshots.get("Status", "enabled"), "settings": {SNAPSHOTS: settings}},
        )


def _table(req: OverrideRequest) -> Table:
    b = req.body
    return lookup(
        req.account_id,
        req.region,
        str(b.get("tableBucketARN", "")),
        str(b.get("namespace", "")),
        str(b.get("name", "")),
    )


@register("s3tables", "GetTableMaintenanceConfiguration")
def api_get(req: OverrideRequest) -> OverrideResponse:
    table = _table(req)
    with _lock:
        config = copy.deepcopy(_config(table))
    return json_response({"tableARN": table.arn, "configuration": config}, content_type="application/json")


@register("s3tables", "PutTableMaintenanceConfiguration")
def api_put(req: OverrideRequest) -> OverrideResponse:
    table = _table(req)
    value = req.body.get("value")
    if not isinstance(value, dict):
        raise BadRequestError("value is required.")
    put(table, str(req.body.get("type", "")), value)
    return OverrideResponse(status=204)
