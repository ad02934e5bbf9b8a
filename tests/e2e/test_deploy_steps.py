"""Pure diff() checks per step (no AWS), plus status drift and slow (transitional) resources."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tasks.aws import Principal
from tasks.errors import StepFailed
from tasks.polling import operation_delays, poll, resource_delays
from tasks.steps import append_only, lf_admins, lf_resource, stack, stack_events, stack_state, streams
from tests.deploy_helpers import deploy, doit, mutating, run

ROLE = "arn:aws:iam::123456789012:role/S3TablesRoleForLakeFormation"


def test_lf_admins_adds_the_caller_and_keeps_every_other_setting():
    settings = {
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::1:role/Other"}],
        "CreateDatabaseDefaultPermissions": [],
        "Parameters": {"CROSS_ACCOUNT_VERSION": "4"},
    }
    want = lf_admins.Desired(Principal("arn:aws:iam::1:user/me", "caller_principal"))
    d = lf_admins.diff(want, lf_admins.Observed(settings))
    assert [c.action for c in d.changes] == ["create"]
    assert lf_admins.diff(
        want,
        lf_admins.Observed({"DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::1:user/me"}]}),
    ).empty


def test_lf_resource_other_role_is_a_note_without_repair_and_an_update_with_it():
    have = lf_resource.Observed(True, "arn:aws:iam::123456789012:role/Other", True)
    plain = lf_resource.diff(lf_resource.Desired("arn:x", ROLE), have)
    assert plain.empty and "repair=1" in plain.notes[0]
    repair = lf_resource.diff(lf_resource.Desired("arn:x", ROLE, repair=True), have)
    assert [c.action for c in repair.changes] == ["update"]
    assert (
        lf_resource.diff(lf_resource.Desired("arn:x", ROLE), lf_resource.Observed(False)).changes[0].action
        == "create"
    )


def _stack_want() -> stack.Desired:
    return stack.Desired("s", "", {"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}, {}, {})


def test_stack_diff_statuses():
    want = _stack_want()
    assert stack.diff(want, stack.Observed(False)).changes[0].action == "create"
    assert stack.diff(want, stack.Observed(True, "id", "ROLLBACK_COMPLETE")).changes[0].action == "replace"
    same = stack.Observed(
        True, "id", "UPDATE_COMPLETE", template={"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}
    )
    assert stack.diff(want, same).empty
    changed = stack.Observed(
        True,
        "id",
        "CREATE_COMPLETE",
        template={"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {}}}},
    )
    d = stack.diff(want, changed)
    assert [(c.action, c.resource, c.reason) for c in d.changes] == [
        ("update", "cloudformation stack s", "change set: 1 to update"),
        ("update", "AWS::S3::Bucket A", ""),
    ]
    assert d.changes[1].fields == {"A.Properties": ({}, None)}


def test_empty_change_set_is_recognised_structurally_first():
    reason = (
        "The submitted information didn't contain changes. "
        "Submit different information to create a change set."
    )
    assert stack_state.empty_change_set(
        {"Status": "FAILED", "ExecutionStatus": "UNAVAILABLE", "StatusReason": reason, "Changes": []}
    )
    assert not stack_state.empty_change_set(
        {"Status": "FAILED", "StatusReason": "Template format error", "Changes": []}
    )
    assert not stack_state.empty_change_set(
        {"Status": "FAILED", "StatusReason": reason, "Changes": [{"Type": "Resource"}]}
    )


def _stream_want() -> streams.Desired:
    dest = {
        "DestinationTableConfigurationList": [
            {"DestinationDatabaseName": "default", "DestinationTableName": "logs"}
        ],
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
        "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "g", "LogStreamName": "logs-delivery"},
        "RoleARN": "r",
        "RetryOptions": {"DurationInSeconds": 300},
        "S3BackupMode": "FailedDataOnly",
        "AppendOnly": True,
        "CatalogConfiguration": {"CatalogARN": "c"},
        "S3Configuration": {"RoleARN": "r", "BucketARN": "b", "ErrorOutputPrefix": "errors/logs/"},
    }
    return streams.Desired("s-logs", "logs", dest, {})


def _observed(**changes) -> streams.Observed:
    fields = {
        k: json.loads(json.dumps(v))
        for k, v in _stream_want().destination.items()
        if k in (*streams.UPDATABLE, *streams.REPLACING)
    }
    fields["Iceberg"] = True
    fields.update(changes)
    return streams.Observed("s-logs", True, "ACTIVE", "arn", "1", "d-1", "DirectPut", "t", fields)


def test_stream_diff_update_replace_and_statuses():
    want = _stream_want()
    assert streams.diff(want, _observed()).empty
    upd = streams.diff(want, _observed(BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}))
    assert upd.changes[0].action == "update" and set(upd.changes[0].fields) == {"BufferingHints"}
    in_place = streams.diff(want, _observed(AppendOnly=False)).changes[
        0
    ]  # UpdateDestination, not a new stream
    assert in_place.action == "update" and in_place.fields == {"AppendOnly": (False, True)}
    assert in_place.reason == f"in place: {append_only.IN_PLACE}"
    for field, value in (
        ("CatalogConfiguration", {"CatalogARN": "other"}),
        (
            "DestinationTableConfigurationList",
            [{"DestinationDatabaseName": "default", "DestinationTableName": "traces"}],
        ),
    ):
        d = streams.diff(want, _observed(**{field: value}))
        assert d.changes[0].action == "replace", field
    failed = streams.Observed("s-logs", True, "CREATING_FAILED")
    assert streams.diff(want, failed).changes[0].action == "replace"
    assert (
        streams.diff(want, streams.Observed("s-logs", True, "DELETING_FAILED")).changes[0].action == "replace"
    )
    assert streams.diff(want, streams.Observed("s-logs", False)).changes[0].action == "create"


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


def test_poll_reads_until_done_and_raises_the_timeout_with_the_last_value():
    reads = iter(["CREATING", "CREATING", "ACTIVE"])
    assert poll(lambda: next(reads), lambda s: s == "ACTIVE", iter([0.0] * 5), RuntimeError) == "ACTIVE"

    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        return "CREATING"

    with pytest.raises(RuntimeError, match=r"^still CREATING$"):
        poll(read, lambda s: s == "ACTIVE", iter([0.0, 0.0]), lambda s: RuntimeError(f"still {s}"))
    assert len(calls) == 3  # a read before each delay and one after the last

    calls.clear()
    with_wait = iter([0.0, 0.0])
    poll(read, lambda s: True, with_wait, RuntimeError, read_now=False)
    assert len(calls) == 1 and list(with_wait) == [0.0]  # the first delay was slept before reading


def read_times(delays_of: Callable[..., Iterator[float]], deadline_s: float, **kwargs: Any) -> list[float]:
    """The seconds since the start at which a poll over operation_delays reads (a fake clock)."""
    now = [0.0]
    times: list[float] = []
    for delay in delays_of(deadline_s, clock=lambda: now[0], **kwargs):
        now[0] += delay
        times.append(round(now[0], 3))
    return times


def test_an_operation_wait_reads_first_at_its_minimum_then_when_the_elapsed_time_grew_by_half():
    """The stack and stream waits: no reads in the first second where they could only say "in progress"
    (the old backoff from 0.1 s made four there), then each read at most half the elapsed time late."""
    local = read_times(operation_delays, 5.0, minimum=1.0, cap=1.0, probe=0.1)
    assert local == [0.1, 1.0, 1.5, 2.25, 3.25, 4.25, 5.0]  # probe, minimum, x1.5, capped, clipped
    assert read_times(operation_delays, 5.0, minimum=1.0, cap=1.0) == [1.0, 1.5, 2.25, 3.25, 4.25, 5.0]
    aws = read_times(operation_delays, 60.0, minimum=5.0, cap=10.0)
    assert aws[:5] == [5.0, 7.5, 11.25, 16.875, 25.312] and aws[-2:] == [55.312, 60.0]
    assert all(b - a <= 10.0 for a, b in itertools.pairwise(aws))
    # A wait that reads at once has no probe: its first read already sees an operation that was instant.
    assert next(resource_delays(60.0, local=True, read_now=True)) == pytest.approx(1.0, abs=0.05)
    assert next(resource_delays(60.0, local=True, read_now=False)) == pytest.approx(0.1, abs=0.05)


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
