"""An env deployed while the stack held the tables (tests/fixtures/legacy_stack_tables_inside.yaml: int
columns, no DeletionPolicy) and fed rows upgrades on its next deploy: the stack lets the tables go and keeps
them, the tables step widens `flags` and `dropped_*_count` to long in place, every row stays, values >= 2^31
then land through `doit send` and the receiver, `pytest verify/` passes and a second deploy writes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from tasks.config import Config
from tasks.records import encode, make_records, new_run_id
from tasks.runner import Run
from tasks.steps import ingest_code
from tasks.steps.stack_state import CAPABILITIES
from tests.cli import verify_helpers
from tests.cli.ingest import ingest_helpers
from tests.cli.table_helpers import static_table
from tests.deploy_helpers import config, doit, mutating
from tests.emulator.streams import flush_until_quiet

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "legacy_stack_tables_inside.yaml"
BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
SIGNALS = ("logs", "traces", "sum", "gauge")
WIDENED: dict[str, tuple[str, ...]] = {
    "traces": ("flags", "dropped_attributes_count", "dropped_events_count", "dropped_links_count")
}
WIDENED.update({s: ("flags",) for s in ("sum", "gauge")})
ROWS = 30


def _apply(run: Run, *names: str) -> None:
    for name in names:
        if not run.uptodate(name):
            run.apply(name)


def _legacy_env(emu: Any) -> Config:
    """What deploying with the tables inside the stack left: account setup, the stack of the fixture with
    its function's code in place, the role's grants and the streams."""
    cfg = config(emu)
    setup = Run(cfg)
    _apply(
        setup,
        "lf_role",
        "lf_admins",
        "lf_resource",
        "catalog",
        "catalog_grant",
        "artifacts_bucket",
        "ingest_code",
    )
    cfn = emu.client("cloudformation")
    cfn.create_stack(
        StackName=cfg.stack_name,
        TemplateBody=FIXTURE.read_text(),
        Parameters=[{"ParameterKey": "IngestCodeKey", "ParameterValue": ingest_code.artifact(setup.ctx).key}],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in cfg.all_tags.items()],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=cfg.stack_name, WaiterConfig={"Delay": 0.2})
    _apply(Run(cfg), "grants", *(f"stream_{s}" for s in SIGNALS))
    return cfg


def _feed(emu: Any, cfg: Config) -> str:
    """ROWS rows per table, with the values an int column holds; and one traces record it cannot hold."""
    run_id = new_run_id()
    fh = emu.client("firehose")
    for signal in SIGNALS:
        records = make_records(signal, run_id, ROWS)
        for seq, rec in enumerate(records):
            rec.update({c: seq for c in WIDENED.get(signal, ())})
        out = fh.put_record_batch(
            DeliveryStreamName=cfg.stream_name(signal), Records=[{"Data": encode(r)} for r in records]
        )
        assert out["FailedPutCount"] == 0
    too_big = make_records("traces", run_id, ROWS + 1)[ROWS]  # flags 2^32 - 1 - ...: no int holds it
    fh.put_record(DeliveryStreamName=cfg.stream_name("traces"), Record={"Data": encode(too_big)})
    flush_until_quiet(emu)
    return run_id


def _span_with_wide_values() -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="wide")))
    span = rs.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "wide"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_780_000_000_000_000_000, 1_780_000_000_500_000_000
    span.flags = 2**31 + 5
    span.dropped_attributes_count = 2**32 - 1
    return req.SerializeToString()


def test_an_env_with_tables_inside_its_stack_upgrades_keeping_every_row(emulator, tmp_path, ingest_zip):
    cfg = _legacy_env(emulator)
    _feed(emulator, cfg)
    before = {
        s: (
            static_table(emulator, s).metadata.table_uuid,
            static_table(emulator, s).scan().to_arrow().num_rows,
        )
        for s in SIGNALS
    }
    assert {s: n for s, (_, n) in before.items()} == dict.fromkeys(SIGNALS, ROWS)  # the wide record failed
    assert str(static_table(emulator, "traces").schema().find_field("flags").field_type) == "int"

    status = doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode == 1, status.stdout + status.stderr
    assert (
        f"table traces: {ROWS} rows, day(timestamp), schema differs from the contract: "
        "dropped_attributes_count int, optional -> long, optional"
    ) in status.stdout
    assert f"table logs: {ROWS} rows, day(timestamp), schema matches the contract" in status.stdout

    plan = doit(emulator, tmp_path, "plan", "env=local")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    for s in SIGNALS:
        logical = f"{s.capitalize()}Table"
        move = (
            rf"stack: delete AWS::S3Tables::Table {logical} \(move table {s} out of the stack: kept, {ROWS} "
        )
        assert re.search(move, plan.stdout), plan.stdout
    assert "loses" not in plan.stdout and "drop=" not in plan.stdout  # kept: nothing to consent to
    assert "    column flags: int, optional -> long, optional" in plan.stdout
    assert "column dropped_links_count: int, optional -> long, optional" in plan.stdout

    deployed = doit(emulator, tmp_path, "deploy", "env=local")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    cfn = emulator.client("cloudformation")
    held = {
        r["ResourceType"]
        for r in cfn.list_stack_resources(StackName=cfg.stack_name)["StackResourceSummaries"]
    }
    assert "AWS::S3Tables::Table" not in held
    pages = cfn.get_paginator("describe_stack_events").paginate(StackName=cfg.stack_name)
    events = [e for page in pages for e in page["StackEvents"]]
    assert {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_SKIPPED"} >= {
        "LogsTable", "TracesTable", "SumTable", "GaugeTable"
    }  # fmt: skip
    for s in SIGNALS:
        table = static_table(emulator, s)
        assert (table.metadata.table_uuid, table.scan().to_arrow().num_rows) == before[s], (
            s
        )  # same table, rows
        for column in WIDENED.get(s, ()):
            assert str(table.schema().find_field(column).field_type) == "long", (s, column)

    # The wide record went to the error bucket, so its alarm is in ALARM for the minute after the one it
    # failed in, then OK again (1 period, missing data not breaching). Two minutes on, whatever minute the
    # test reached, the alarm has fired and cleared: the clock moves there instead of the test racing it.
    emulator.set_faults({"clock": {"offset_seconds": 120}})
    try:
        status = doit(emulator, tmp_path, "status", "env=local")
    finally:
        emulator.clear_faults()
    assert status.returncode == 0, status.stdout + status.stderr
    for s in SIGNALS:
        assert f"table {s}: {ROWS} rows, day(timestamp), schema matches the contract" in status.stdout
    history = emulator.client("cloudwatch").describe_alarm_history(
        AlarmName=cfg.alarm_name("traces", "records-to-error-bucket"), HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    assert [json.loads(h["HistoryData"])["newState"]["stateValue"] for h in reversed(history)][-2:] == [
        "ALARM", "OK"
    ], history  # fmt: skip

    sent = doit(emulator, tmp_path, "send", "env=local", "count=20")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    flush_until_quiet(emulator)
    for s, columns in WIDENED.items():
        rows = static_table(emulator, s).scan().to_arrow()
        for column in columns:
            assert pc.sum(pc.greater_equal(rows.column(column), 2**31)).as_py() == 20, (s, column)
    with ingest_helpers.receiver(emulator, cfg) as rx:
        code, _, body = rx.post("/v1/traces", _span_with_wide_values())
        assert code == 200, body
        wide = [r for r in rx.rows("traces") if r["span_name"] == "wide"]
    assert [(r["flags"], r["dropped_attributes_count"]) for r in wide] == [(2**31 + 5, 2**32 - 1)]

    proc, _ = verify_helpers.run_verify(emulator)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]

    emulator.reset_calls()
    again = Run(cfg)
    again.deploy_sequential()
    assert mutating(emulator) == {}, again.counter.summary()


def test_destroy_of_an_env_whose_stack_holds_its_tables_still_removes_everything(
    emulator, tmp_path, ingest_zip
):
    """The stack of such an env deletes its tables itself; a table someone added makes its bucket's delete
    fail (DELETE_FAILED), and destroy deletes the rest through the S3 Tables API, then the stack again."""
    cfg = _legacy_env(emulator)
    s3t = emulator.client("s3tables")
    s3t.create_namespace(tableBucketARN=BUCKET, namespace=["scratch"])
    s3t.create_table(tableBucketARN=BUCKET, namespace="scratch", name="adhoc", format="ICEBERG")
    out = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "TableBucket AWS::S3Tables::TableBucket DELETE_FAILED" in out.stdout
    assert "deleting its tables and namespaces through the S3 Tables API" in out.stdout
    assert BUCKET not in {b["arn"] for b in s3t.list_table_buckets()["tableBuckets"]}
    stacks = emulator.client("cloudformation").list_stacks(StackStatusFilter=["DELETE_COMPLETE"])[
        "StackSummaries"
    ]
    assert cfg.stack_name in {s["StackName"] for s in stacks}
