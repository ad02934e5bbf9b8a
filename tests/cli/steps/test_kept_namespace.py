"""Changing `namespace` on a deployed env (tasks/steps/kept_tables.py, tasks/steps/tables.py) against the
local AWS: plan names each table the old namespace keeps, with its rows, before deploy moves ingest to the
new namespace's empty tables; deploy keeps every old row in the same tables; status and `doit tables` show
them as kept; a table whose name is no signal's is someone else's and never mentioned; a second deploy
writes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from pyiceberg.table import StaticTable

from tasks import send as sender
from tasks.aws import Clients
from tests.deploy_helpers import config, deploy, doit, mutating

NO_INGEST = {"ingest.enabled": "false"}
OTEL = {**NO_INGEST, "namespace": "otel"}
BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
CLI = ["env=local", "ingest.enabled=false", "namespace=otel"]
ROWS = {"traces": 40, "logs": 7}


def _table(emu: Any, namespace: str, name: str) -> Any:
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=BUCKET, namespace=namespace, name=name
    )
    return StaticTable.from_metadata(loc["metadataLocation"])


def _send(emu: Any, overrides: dict[str, str], signal: str, count: int) -> None:
    cfg = config(emu, overrides)
    _, results = sender.send(Clients(cfg), cfg, [signal], count)
    assert results[0].failed == 0
    emu.flush()


def _someone_elses_table(emu: Any) -> None:
    """A table another team keeps in the same bucket, in its own namespace, under a name no signal has."""
    s3t = emu.client("s3tables")
    s3t.create_namespace(tableBucketARN=BUCKET, namespace=["scratch"])
    schema = {"fields": [{"name": "id", "type": "int", "required": True}]}
    s3t.create_table(
        tableBucketARN=BUCKET,
        namespace="scratch",
        name="billing_export",
        format="ICEBERG",
        metadata={"iceberg": {"schema": schema}},
    )


def test_a_namespace_change_keeps_the_old_tables_and_says_so_in_plan_status_and_tables(emulator, tmp_path):
    first = deploy(emulator, NO_INGEST)
    for signal, count in ROWS.items():
        _send(emulator, NO_INGEST, signal, count)
    uuids = {s: str(_table(emulator, "default", s).metadata.table_uuid) for s in first.config.signals}
    _someone_elses_table(emulator)

    emulator.reset_calls()
    plan = doit(emulator, tmp_path, "plan", *CLI)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert mutating(emulator) == {}
    for signal in first.config.signals:
        rows = f"{ROWS.get(signal, 0):,} rows"
        assert re.search(
            rf"kept_tables: note: table default\.{signal} is kept in namespace default, not ingesting "
            rf"\({rows}, .*, newest .*\): the env now writes namespace otel",
            plan.stdout,
        ), plan.stdout
        assert (
            f"table_{signal}: note: table otel.{signal} starts empty: the rows of {signal} stay in table "
            f"default.{signal}"
        ) in plan.stdout
    assert "billing_export" not in plan.stdout and "scratch" not in plan.stdout

    moved = deploy(emulator, OTEL)
    assert {r.name for r in moved.results.values() if r.error} == set()
    for signal in first.config.signals:
        old = _table(emulator, "default", signal)
        assert str(old.metadata.table_uuid) == uuids[signal]  # the same table, every row kept
        assert old.scan().to_arrow().num_rows == ROWS.get(signal, 0)
        assert _table(emulator, "otel", signal).scan().to_arrow().num_rows == 0

    status = doit(emulator, tmp_path, "status", *CLI)
    assert status.returncode == 0, status.stdout + status.stderr
    for signal in first.config.signals:
        rows = f"{ROWS.get(signal, 0):,} rows"
        assert re.search(
            rf"table default\.{signal}: kept in namespace default, not ingesting: {rows}, "
            r".* newest .*; the env writes namespace otel",
            status.stdout,
        ), status.stdout
    assert "billing_export" not in status.stdout and "scratch" not in status.stdout

    tables = doit(emulator, tmp_path, "tables", *CLI, "format=json")
    assert tables.returncode == 0, tables.stdout + tables.stderr
    listed = {t["table"]: (t["kept"], t["rows"]) for t in json.loads(tables.stdout)["tables"]}
    assert listed == {
        **{s: (False, 0) for s in first.config.signals},
        **{f"default.{s}": (True, ROWS.get(s, 0)) for s in first.config.signals},
    }
    text = doit(emulator, tmp_path, "tables", *CLI)
    assert "default.traces (kept)" in text.stdout and "billing_export" not in text.stdout

    emulator.reset_calls()
    again = deploy(emulator, OTEL)
    assert {r.name for r in again.results.values() if r.error} == set()
    assert mutating(emulator) == {}
