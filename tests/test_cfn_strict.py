"""CloudFormation where AWS is strict: events come in pages, a stack cannot delete a bucket that holds
objects, and every read a client uses answers for the engine's stacks (the AWS CLI's `deploy` works)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.destroy import inventory
from tasks.errors import StepFailed
from tasks.step import Context
from tasks.steps import stack
from tests.deploy_helpers import config, deploy, doit

GROUP = "paging-group"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _many_streams(n: int, *, bad: bool) -> dict[str, Any]:
    """A log group with ``n`` log streams (3 events each), and, with ``bad``, a stream whose group does
    not exist, created last (it depends on all the others), so the create fails after 3n + 4 events."""
    resources: dict[str, Any] = {
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": GROUP}},
    }
    for i in range(n):
        resources[f"Stream{i:03d}"] = {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "Group"}, "LogStreamName": f"s{i:03d}"},
        }
    if bad:
        resources["Bad"] = {
            "Type": "AWS::Logs::LogStream",
            "DependsOn": [f"Stream{i:03d}" for i in range(n)],
            "Properties": {"LogGroupName": "no-such-group", "LogStreamName": "bad"},
        }
    return {"Resources": resources}


def test_describe_stack_events_pages_newest_first_with_a_stable_next_token(emulator):
    cf = emulator.client("cloudformation")
    cf.create_stack(StackName="paged", TemplateBody=json.dumps(_many_streams(40, bad=False)))
    first = cf.describe_stack_events(StackName="paged")
    assert len(first["StackEvents"]) == 100 and first["NextToken"]
    assert first["StackEvents"][0]["ResourceStatus"] == "CREATE_COMPLETE"  # newest first: the stack's own
    # Events that happen between two pages do not shift the next page.
    cf.update_stack(StackName="paged", TemplateBody=json.dumps(_many_streams(41, bad=False)))
    second = cf.describe_stack_events(StackName="paged", NextToken=first["NextToken"])
    assert "NextToken" not in second
    events = [
        e
        for page in cf.get_paginator("describe_stack_events").paginate(StackName="paged")
        for e in page["StackEvents"]
    ]
    ids = [e["EventId"] for e in events]
    assert len(ids) == len(set(ids)) == (1 + 3 * 41 + 1) + (1 + 3 + 2)  # the create, then the update
    assert [e["EventId"] for e in second["StackEvents"]] == ids[-25:]  # the create's oldest 25
    assert events[-1]["ResourceStatus"] == "CREATE_IN_PROGRESS"  # oldest last
    assert events[-1]["LogicalResourceId"] == "paged"
    with pytest.raises(ClientError) as exc:
        cf.describe_stack_events(StackName="paged", NextToken="not-a-token")
    assert _code(exc) == "ValidationError"


def test_a_stack_that_fails_after_150_events_names_the_first_failing_resource(emulator, capsys):
    """The failure (event ~185) is beyond the first page once the rollback's ~120 events follow it."""
    cfg = config(emulator)
    ctx = Context(cfg, Clients(cfg))
    template = _many_streams(60, bad=True)
    want = stack.Desired("many-events", json.dumps(template), template, {}, {})
    with pytest.raises(StepFailed) as exc:
        stack.run_change_set(ctx, want, "CREATE")
    assert str(exc.value).startswith(
        "error: stack many-events ended ROLLBACK_COMPLETE: "
        "resource Bad (AWS::Logs::LogStream) CREATE_FAILED: "
    )
    out = capsys.readouterr().out
    # Every event was printed, the oldest ones (third page) too, each once.
    assert out.count("stack: Stream000 AWS::Logs::LogStream CREATE_IN_PROGRESS") == 2
    assert out.count("stack: Bad AWS::Logs::LogStream CREATE_FAILED") == 1
    assert out.count("stack: many-events AWS::CloudFormation::Stack ROLLBACK_COMPLETE") == 1


# -- a stack cannot delete a bucket that holds objects ----------------------------------------------


def test_a_raw_stack_delete_of_an_env_with_error_objects_fails_and_destroy_still_removes_it(
    emulator, tmp_path
):
    cfg = config(emulator)
    deploy(emulator)
    s3 = emulator.client("s3")
    bucket = f"otlp2pipeline-local-errors-{emulator.account_id}-{emulator.region}"
    s3.put_object(Bucket=bucket, Key="errors/logs/2026/12/01/10/x.json", Body=b'{"errorCode": "x"}')
    s3.delete_object(Bucket=bucket, Key="errors/logs/2026/12/01/10/x.json")  # a delete marker and a version

    cf = emulator.client("cloudformation")
    cf.delete_stack(StackName=cfg.stack_name)
    got = cf.describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    assert got["StackStatus"] == "DELETE_FAILED" and "[ErrorBucket]" in got["StackStatusReason"]
    failed = [
        e
        for e in cf.describe_stack_events(StackName=cfg.stack_name)["StackEvents"]
        if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] != cfg.stack_name
    ]
    assert [(e["LogicalResourceId"], e["ResourceType"]) for e in failed] == [
        ("ErrorBucket", "AWS::S3::Bucket")
    ]
    assert "The bucket you tried to delete is not empty" in failed[0]["ResourceStatusReason"]
    s3.head_bucket(Bucket=bucket)  # the bucket stays, with its versions
    assert s3.list_object_versions(Bucket=bucket)["Versions"]

    out = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    inv = inventory(Context(cfg, Clients(cfg)))
    assert inv.empty, inv.lines()
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
