"""Changing `namespace` on a deployed env (tasks/steps/kept_tables.py, tasks/steps/tables.py) against the
local AWS: plan names each table the old namespace keeps, with its rows, before deploy moves ingest to the
new namespace's empty tables; deploy keeps every old row in the same tables; status and `doit tables` show
them as kept; a table whose name is no signal's is someone else's and never mentioned; a second deploy
writes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tasks.errors import StepFailed
from tests.cli.table_helpers import send_rows, static_table
from tests.deploy_helpers import deploy, doit, mutating

NO_INGEST = {"ingest.enabled": "false"}
OTEL = {**NO_INGEST, "namespace": "otel"}
BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
CLI = ["env=local", "ingest.enabled=false", "namespace=otel"]
ROWS = {"traces": 40, "logs": 7}


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
        send_rows(emulator, NO_INGEST, signal, count)
    uuids = {s: str(static_table(emulator, s, "default").metadata.table_uuid) for s in first.config.signals}
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
    # the Firehose role's policy names the new namespace: the stack's update, not drift of the role
    assert "the stack's update is to change its policy; deploy compares it after" in plan.stdout
    assert "outside CloudFormation" not in plan.stdout, plan.stdout

    moved = deploy(emulator, OTEL)
    assert {r.name for r in moved.results.values() if r.error} == set()
    for signal in first.config.signals:
        old = static_table(emulator, signal, "default")
        assert str(old.metadata.table_uuid) == uuids[signal]  # the same table, every row kept
        assert old.scan().to_arrow().num_rows == ROWS.get(signal, 0)
        assert static_table(emulator, signal, "otel").scan().to_arrow().num_rows == 0

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


BACK = ["env=local", "ingest.enabled=false", "namespace=default"]
OTEL_ROWS = {"traces": 5, "logs": 3}


def test_changing_the_namespace_back_takes_the_kept_namespace_into_the_stack_with_its_rows(
    emulator, tmp_path
):
    """default -> otel -> default: the stack takes the kept namespace default back (it exists, with its
    tables, so CloudFormation could not create it), keeps otel with its tables, and the env writes the
    same default tables again."""
    first = deploy(emulator, NO_INGEST)
    for signal, count in ROWS.items():
        send_rows(emulator, NO_INGEST, signal, count)
    uuids = {s: str(static_table(emulator, s, "default").metadata.table_uuid) for s in first.config.signals}
    moved = deploy(emulator, OTEL)
    assert {r.name for r in moved.results.values() if r.error} == set()
    for signal, count in OTEL_ROWS.items():
        send_rows(emulator, OTEL, signal, count)
    otel_uuids = {s: str(static_table(emulator, s, "otel").metadata.table_uuid) for s in first.config.signals}

    emulator.reset_calls()
    plan = doit(emulator, tmp_path, "plan", *BACK)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert mutating(emulator) == {}
    tables = len(first.config.signals)
    assert (
        f"namespace default exists already (kept, {tables} tables): taken back into the stack, not created; "
        f"namespace otel leaves the stack, kept with its {tables} tables"
    ) in plan.stdout, plan.stdout
    for signal in first.config.signals:
        assert re.search(
            rf"kept_tables: note: table otel\.{signal} is kept in namespace otel, not ingesting "
            rf"\({OTEL_ROWS.get(signal, 0):,} rows, .*\): the env now writes namespace default",
            plan.stdout,
        ), plan.stdout
        assert f"create iceberg table default.{signal}" not in plan.stdout

    back = doit(emulator, tmp_path, "deploy", *BACK)
    assert back.returncode == 0, back.stdout + back.stderr
    stack = emulator.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Namespace"] == "default"
    for signal in first.config.signals:
        old = static_table(emulator, signal, "default")
        assert str(old.metadata.table_uuid) == uuids[signal]  # the same table, every row kept
        assert old.scan().to_arrow().num_rows == ROWS.get(signal, 0)
        kept = static_table(emulator, signal, "otel")
        assert str(kept.metadata.table_uuid) == otel_uuids[signal]
        assert kept.scan().to_arrow().num_rows == OTEL_ROWS.get(signal, 0)

    send_rows(emulator, NO_INGEST, "traces", 4)  # the streams write namespace default again
    assert static_table(emulator, "traces", "default").scan().to_arrow().num_rows == ROWS["traces"] + 4
    assert static_table(emulator, "traces", "otel").scan().to_arrow().num_rows == OTEL_ROWS["traces"]

    status = doit(emulator, tmp_path, "status", *BACK)
    assert status.returncode == 0, status.stdout + status.stderr
    for signal in first.config.signals:
        assert re.search(
            rf"table otel\.{signal}: kept in namespace otel, not ingesting: "
            rf"{OTEL_ROWS.get(signal, 0):,} rows, .*; the env writes namespace default",
            status.stdout,
        ), status.stdout
    listed = doit(emulator, tmp_path, "tables", *BACK, "format=json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert {t["table"]: t["kept"] for t in json.loads(listed.stdout)["tables"]} == {
        **{s: False for s in first.config.signals},
        **{f"otel.{s}": True for s in first.config.signals},
    }

    emulator.reset_calls()
    again = deploy(emulator, NO_INGEST)
    assert {r.name for r in again.results.values() if r.error} == set()
    assert mutating(emulator) == {}


def test_a_take_back_stopped_after_the_namespace_left_the_stack_is_finished_by_the_next_deploy(
    emulator, tmp_path
):
    """The import fails (a refused call) after the first change set took namespace otel out of the stack:
    the stack holds no namespace, nothing is lost, and the next deploy imports default and converges."""
    deploy(emulator, NO_INGEST)
    send_rows(emulator, NO_INGEST, "traces", 6)
    uuid = str(static_table(emulator, "traces", "default").metadata.table_uuid)
    deploy(emulator, OTEL)

    # Mutating calls of the deploy back: CreateChangeSet and ExecuteChangeSet of the first change set, then
    # the import's CreateChangeSet, refused.
    emulator.set_faults({"fail_mutating_call": {"number": 3, "error_code": "AccessDenied", "status": 403}})
    with pytest.raises(StepFailed, match=r"deploy:stack failed: .*CreateChangeSet.*AccessDenied"):
        deploy(emulator, NO_INGEST)
    emulator.set_faults({"fail_mutating_call": None})
    cfn = emulator.client("cloudformation")
    held = {
        r["LogicalResourceId"]
        for r in cfn.describe_stack_resources(StackName="otlp2pipeline-local")["StackResources"]
    }
    assert "Namespace" not in held and "TableBucket" in held
    s3t = emulator.client("s3tables")
    assert {n["namespace"][0] for n in s3t.list_namespaces(tableBucketARN=BUCKET)["namespaces"]} == {
        "default",
        "otel",
    }

    plan = doit(emulator, tmp_path, "plan", *BACK)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert (
        "two change sets: the first imports the existing namespace default, the second applies the rest"
        in plan.stdout
    ), plan.stdout
    back = doit(emulator, tmp_path, "deploy", *BACK)
    assert back.returncode == 0, back.stdout + back.stderr
    detail = cfn.describe_stack_resource(StackName="otlp2pipeline-local", LogicalResourceId="Namespace")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == f"{BUCKET}|default"
    table = static_table(emulator, "traces", "default")
    assert str(table.metadata.table_uuid) == uuid and table.scan().to_arrow().num_rows == 6
    emulator.reset_calls()
    again = deploy(emulator, NO_INGEST)
    assert {r.name for r in again.results.values() if r.error} == set()
    assert mutating(emulator) == {}
