"""S3 Tables behaviour moto lacks, shared by the API handlers (responses.py) and the CloudFormation types
(emulator/cloudformation/resources/s3tables.py).

Deleting a table bucket that still has namespaces, or a namespace that still has tables, is a
``ConflictException`` as on AWS. With the fault ``latency.s3tables_bucket_name_reuse_seconds``, a
just-deleted bucket's name is refused with ``ConflictException`` for that long, as AWS may do
("transitional state"). The window is measured against the fault's current value, so a test can hold the
state (a long window) and end it when it has seen what it wanted (a shorter one, or clearing the faults).
A table with an Iceberg schema is a real Iceberg v2 table (emulator/iceberg/store.py), whose metadata
location GetTableMetadataLocation returns. A table's ARN ends in its table id, as on AWS
(``.../bucket/NAME/table/ID``), not in its name (moto's), so a policy that names a table ARN must have read
it; the table's maintenance configuration (maintenance.py) lives with it and goes with it.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from moto.s3tables.exceptions import ConflictException
from moto.s3tables.models import S3TablesBackend, Table, s3tables_backends

from emulator.admin import faults
from emulator.core.state import RegionalState

_lock = threading.RLock()
# bucket name -> time.monotonic() of its deletion (while the reuse latency was set)
_deleted_at: RegionalState[dict[str, float]] = RegionalState(dict, _lock)
TRANSITIONAL = (
    "The table bucket name is in a transitional state after a recent deletion. Try again in a few minutes."
)


def backend(account_id: str, region: str) -> S3TablesBackend:
    return s3tables_backends[account_id][region]


def table_id(table: Table) -> str:
    """The table's id (made on first use, kept for the table's life, a rename included)."""
    tid = getattr(table, "_emulator_table_id", None)
    if tid is None:
        tid = str(uuid.uuid4())
        table._emulator_table_id = tid  # type: ignore[attr-defined]
    return str(tid)


def _table_arn(self: Table) -> str:
    return f"{self.table_bucket_arn}/table/{table_id(self)}"


Table.arn = property(_table_arn)  # type: ignore[method-assign,assignment]


def find_table(account_id: str, region: str, table_arn: str) -> tuple[str, str] | None:
    """(namespace, name) of the table with this ARN, or None."""
    bucket_arn = table_arn.partition("/table/")[0]
    bucket = backend(account_id, region).table_buckets.get(bucket_arn)
    for ns in bucket.namespaces.values() if bucket is not None else ():
        for table in ns.tables.values():
            if table.arn == table_arn:
                return ns.name, table.name
    return None


def _bucket_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def note_deleted(account_id: str, region: str, arn: str) -> None:
    if faults.latency(faults.BUCKET_NAME_REUSE_SECONDS) > 0:
        with _lock:
            _deleted_at(account_id, region)[_bucket_name(arn)] = time.monotonic()
        faults.record_fired("latency")


def check_name_reusable(account_id: str, region: str, name: str) -> None:
    """Refused while the latency's current seconds since the name's deletion have not passed (faults.held)."""
    with _lock:
        deleted_at = _deleted_at(account_id, region).get(name)
    if deleted_at is not None and faults.held(deleted_at, faults.BUCKET_NAME_REUSE_SECONDS):
        raise ConflictException(TRANSITIONAL)


def delete_table_bucket(account_id: str, region: str, arn: str) -> None:
    """Delete as AWS does: refused while the bucket still has namespaces (and so tables)."""
    be = backend(account_id, region)
    bucket = be.get_table_bucket(arn)
    if bucket.namespaces:
        raise ConflictException("The bucket that you tried to delete is not empty.")
    be.delete_table_bucket(arn)
    note_deleted(account_id, region, arn)


def delete_namespace(account_id: str, region: str, arn: str, namespace: str) -> None:
    be = backend(account_id, region)
    ns = be.get_namespace(arn, namespace)
    if ns.tables:
        raise ConflictException("The namespace that you tried to delete is not empty.")
    be.delete_namespace(arn, namespace)


def complete_summaries(account_id: str, region: str, bucket_arn: str, body: dict[str, Any]) -> dict[str, Any]:
    """ListTables' summaries with the members the model requires and moto leaves out: ``type`` (a table
    the account made is ``customer``) and ``tableARN`` (ending in the table id, as GetTable's)."""
    bucket = backend(account_id, region).table_buckets.get(bucket_arn)
    for summary in body.get("tables", []):
        ns = bucket.namespaces.get(summary["namespace"][0]) if bucket is not None else None
        table = ns.tables.get(summary["name"]) if ns is not None else None
        summary.setdefault("type", "customer")
        if table is not None:
            summary.setdefault("tableARN", table.arn)
    return body


def create_iceberg_table(
    account_id: str,
    region: str,
    arn: str,
    namespace: str,
    name: str,
    schema_fields: list[dict[str, Any]],
    partition_fields: list[dict[str, Any]] | None,
) -> None:
    """Create the real Iceberg table and point moto's table at it (metadata and warehouse location).

    ``schema_fields`` and ``partition_fields`` in CloudFormation's spelling ({Id, Name, Type, Required},
    {SourceId, Transform, Name, FieldId}); the API's (camelCase) is translated by the caller.
    """
    from emulator.iceberg.store import get_store

    store = get_store()
    location = store.create_table(arn, namespace, name, schema_fields, partition_fields or [])
    table = backend(account_id, region).get_table(arn, namespace, name)
    table.metadata_location = location
    table.warehouse_location = store.table_location(arn, namespace, name)


def drop_iceberg_table(arn: str, namespace: str, name: str) -> None:
    try:
        from emulator.iceberg.store import get_store
    except ImportError:  # pragma: no cover
        return
    get_store().drop_table(arn, namespace, name)
