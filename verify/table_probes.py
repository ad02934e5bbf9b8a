"""Probes of what the tables step relies on in S3 Tables (docs/not-yet-confirmed.md, docs/changing-tables.md),
each on a scratch table of its own in the env's namespace (`otlp2pipeline_probe_...`), deleted again.

- `s3tables-rest-evolves-in-place`: a table made by CreateTable has the field ids 1, 2, ... in order; the
  Iceberg REST endpoint's LoadTable reads it, a commit of add-schema + set-current-schema with the tool's
  requirements widens `int` to `long` and adds an optional column, and a commit narrowing `long` back to
  `int` is refused.
- `s3tables-new-table-maintenance`: a new table's maintenance is what the tool takes for granted (the S3
  User Guide's defaults), so a deploy with the default settings writes none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.iceberg_rest import IcebergRest
from tasks.steps import table_schema as ts
from tasks.steps import tables
from verify import expect
from verify.probes import Finding, ProbeEnv, confirmed, differs, undetermined

C = ts.Column
BEFORE = ts.Shape(
    (C(1, "timestamp", "timestamp", True), C(2, "flags", "int", False)), (("timestamp", "day"),)
)
AFTER = ts.Shape(
    (BEFORE.columns[0], C(2, "flags", "long", False), C(3, "note", "string", False)), BEFORE.partition
)
NARROWED = ts.Shape((*AFTER.columns[:1], C(2, "flags", "int", False), AFTER.columns[2]), AFTER.partition)


def _scratch(env: ProbeEnv, probe: Callable[[str, str], Finding]) -> Finding:
    """Run `probe(bucket ARN, table name)` on a new scratch table, and delete the table whatever happens."""
    bucket = expect.table_bucket_arn(env.config, env.account_id)
    name = f"otlp2pipeline_probe_{uuid.uuid4().hex[:8]}"
    s3t = env.clients.s3tables
    try:
        s3t.create_table(
            tableBucketARN=bucket,
            namespace=env.config.namespace,
            name=name,
            format="ICEBERG",
            metadata=ts.create_metadata(BEFORE),
        )
    except ClientError as exc:
        return undetermined(f"cannot create a scratch table in {bucket}: {error_code(exc)}")
    try:
        return probe(bucket, name)
    finally:
        s3t.delete_table(tableBucketARN=bucket, namespace=env.config.namespace, name=name)


def rest_evolves_in_place(env: ProbeEnv) -> Finding:
    def probe(bucket: str, name: str) -> Finding:
        rest = IcebergRest(env.clients, bucket)
        loaded = rest.load_table(env.config.namespace, name)
        if loaded is None:
            return differs(f"LoadTable finds no table {name} that CreateTable made")
        live = ts.live_from_metadata(loaded["metadata"])
        if live.shape != BEFORE:
            return differs(f"CreateTable made {live.shape}, not {BEFORE} (field ids 1, 2 in order)")
        changes, _ = ts.compare(name, AFTER, live)
        try:
            rest.commit(env.config.namespace, name, *ts.evolve_commit(AFTER, live, changes))
        except ClientError as exc:
            return differs(f"the widening commit was refused: {_said(exc)}")
        reloaded = rest.load_table(env.config.namespace, name)
        widened = ts.live_from_metadata((reloaded or {}).get("metadata", {}))
        if widened.shape != AFTER:
            return differs(f"after the commit the table is {widened.shape}, not {AFTER}")
        narrowing, _ = ts.compare(name, NARROWED, widened)
        try:
            rest.commit(env.config.namespace, name, *_forced(NARROWED, widened))
        except ClientError as exc:
            return confirmed(
                f"commit widened int to long and added a column; narrowing refused ({_said(exc)})"
            )
        return differs(f"a commit narrowing long to int was accepted ({narrowing or 'no change'} seen)")

    return _scratch(env, probe)


def new_table_maintenance(env: ProbeEnv) -> Finding:
    def probe(bucket: str, name: str) -> Finding:
        got = env.clients.s3tables.get_table_maintenance_configuration(
            tableBucketARN=bucket, namespace=env.config.namespace, name=name
        )["configuration"]
        differ = tables.maintenance_fields(tables.NEW_TABLE_MAINTENANCE, tables.maintenance_of(got))
        if differ:
            return differs(f"a new table's maintenance differs from what deploy assumes: {differ}")
        return confirmed("a new table has compaction 512 MB and snapshot management 1 / 120 h, enabled")

    return _scratch(env, probe)


def _forced(want: ts.Shape, live: ts.Live) -> tuple[list[Any], list[Any]]:
    """The commit the tool's diff never sends: the schema `want` whatever it changes."""
    return ts.evolve_commit(want, live, [])


def _said(exc: ClientError) -> str:
    err = exc.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message', '')}"[:200]
