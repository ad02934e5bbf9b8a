"""Status drift, slow (transitional) resources and a stack that failed or went, against the local AWS (the
steps' pure diffs: tests/unit/tasks/steps/test_step_diffs.py)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import WaiterError

from tasks.errors import StepFailed
from tasks.steps import stack_events, streams
from tests.deploy_helpers import deploy, doit, mutating, run


def test_status_shows_drift_per_item_and_exits_non_zero(emulator, tmp_path):
    deploy(emulator)
    emulator.client("firehose").delete_delivery_stream(DeliveryStreamName="otlp2pipeline-local-sum")
    out = doit(emulator, tmp_path, "status", "env=local")
    assert out.returncode != 0
    assert "stream otlp2pipeline-local-sum: missing" in out.stdout
    assert "drift: create firehose stream otlp2pipeline-local-sum" in out.stdout
    as_json = doit(emulator, tmp_path, "status", "env=local", "format=json")
    doc = json.loads(as_json.stdout[as_json.stdout.index("{") : as_json.stdout.rindex("}") + 1])
    assert doc["healthy"] is False
    bad = [s["step"] for s in doc["steps"] if not s["ok"]]
    assert bad == ["stream_sum"]


def test_deploy_waits_for_slow_stacks_and_streams(emulator, tmp_path):
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 1, "firehose_stream_seconds": 1}})
    try:
        out = doit(emulator, tmp_path, "deploy", "env=local")
    finally:
        emulator.clear_faults()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CREATE_IN_PROGRESS" in out.stdout and "CREATE_COMPLETE" in out.stdout  # events streamed
    r = run(emulator)
    assert all(p.diff is not None and p.diff.empty for p in r.plan())


@pytest.mark.parametrize(
    ("module", "deadline", "latency", "message"),
    [
        (
            stack_events,
            "STACK_DEADLINE_S",
            "cloudformation_stack_seconds",
            r"stack .* still CREATE_IN_PROGRESS",
        ),
        (streams, "STREAM_DEADLINE_S", "firehose_stream_seconds", r"stream .* still CREATING after"),
    ],
)
def test_a_stack_or_stream_stuck_in_progress_fails_its_step_by_name(
    emulator, monkeypatch, module, deadline, latency, message
):
    monkeypatch.setattr(module, deadline, 0.3)
    emulator.set_faults({"latency": {latency: 30}})
    try:
        with pytest.raises(StepFailed, match=message):
            run(emulator).deploy_sequential()
    finally:
        emulator.clear_faults()


def test_a_failed_stack_create_is_replaced_by_the_next_deploy_importing_a_kept_bucket(emulator):
    """A stack whose create rolled back (ROLLBACK_COMPLETE) is deleted and re-created by the next deploy; a
    table bucket of the env's name that exists meanwhile is imported into the new stack, not created."""
    r = run(emulator)
    cfn, s3tables = emulator.client("cloudformation"), emulator.client("s3tables")
    broken = {"Resources": {"Broken": {"Type": "AWS::Logs::LogStream", "Properties": {
        "LogGroupName": "/no/such/group", "LogStreamName": "x"}}}}  # fmt: skip
    cfn.create_stack(StackName=r.config.stack_name, TemplateBody=json.dumps(broken))
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(
            StackName=r.config.stack_name, WaiterConfig={"Delay": 0.2}
        )
    arn = s3tables.create_table_bucket(name=r.config.table_bucket_name)["arn"]

    plan = {p.name: p.diff for p in run(emulator).plan()}
    assert [(c.action, c.reason) for c in plan["stack"].changes] == [
        (
            "replace",
            "a failed create left it in ROLLBACK_COMPLETE: delete and re-create (import the kept table "
            f"bucket {r.config.table_bucket_name}, with their tables, then create the rest)",
        )
    ]
    deploy(emulator)
    stacks = cfn.describe_stacks(StackName=r.config.stack_name)["Stacks"]
    assert [s["StackStatus"] for s in stacks] == ["UPDATE_COMPLETE"]
    resources = {x["LogicalResourceId"]: x["PhysicalResourceId"] for x in cfn.list_stack_resources(
        StackName=r.config.stack_name)["StackResourceSummaries"]}  # fmt: skip
    assert resources["TableBucket"] == arn
    assert all(p.diff is not None and p.diff.empty for p in run(emulator).plan())


def test_a_stack_deleted_out_of_band_is_re_made_around_its_kept_bucket_with_every_row(emulator):
    """The stack keeps its table bucket and namespace when it goes: the next deploy imports them into a new
    stack (a change set of type IMPORT), and the tables, with their rows, are the env's again."""
    from tasks import send as sender
    from tasks.aws import Clients

    r = deploy(emulator)
    _, results = sender.send(Clients(r.config), r.config, ["logs"], 20)
    assert results[0].failed == 0
    emulator.flush()
    cfn = emulator.client("cloudformation")
    cfn.delete_stack(StackName=r.config.stack_name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=r.config.stack_name, WaiterConfig={"Delay": 0.2})
    s3tables = emulator.client("s3tables")
    arn = r.config.table_bucket_arn("123456789012")
    assert {t["name"] for t in s3tables.list_tables(tableBucketARN=arn)["tables"]} >= {"logs"}

    plan = {p.name: p.diff for p in run(emulator).plan()}
    assert plan["stack"].changes[0].reason == (
        f"import the kept table bucket {r.config.table_bucket_name} and its namespace, with their tables, "
        "then create the rest"
    )
    again = deploy(emulator)
    assert again.results["stack"].outcome is not None and again.results["stack"].outcome.result == "created"
    pages = cfn.get_paginator("describe_stack_events").paginate(StackName=r.config.stack_name)
    events = [e for page in pages for e in page["StackEvents"]]
    assert {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events} >= {
        ("TableBucket", "IMPORT_COMPLETE"), ("Namespace", "IMPORT_COMPLETE")}  # fmt: skip
    loc = s3tables.get_table_metadata_location(tableBucketARN=arn, namespace="default", name="logs")
    from pyiceberg.table import StaticTable

    assert StaticTable.from_metadata(loc["metadataLocation"]).scan().to_arrow().num_rows == 20
    emulator.reset_calls()
    deploy(emulator)
    assert mutating(emulator) == {}
