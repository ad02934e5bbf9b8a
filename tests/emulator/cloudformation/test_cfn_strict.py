"""CloudFormation where AWS is strict: events come in pages, a stack cannot delete a bucket that holds
objects, and every read a client uses answers for the engine's stacks (the AWS CLI's `deploy` works)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.destroy import inventory
from tasks.errors import StepFailed
from tasks.step import Context
from tasks.steps import stack
from tests.deploy_helpers import config, deploy, doit
from tests.waiting import wait_for

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

    # deploy cannot update such a stack: it says why and the delete that can follow, never "destroy"
    with pytest.raises(StepFailed) as refused:
        deploy(emulator)
    message = str(refused.value)
    assert "CloudFormation takes only a delete of it now (ErrorBucket: " in message, message
    assert "The bucket you tried to delete is not empty" in message
    delete = f"aws cloudformation delete-stack --stack-name {cfg.stack_name} --region us-east-1"
    assert f"`{delete} --endpoint-url {emulator.endpoint}`" in message and "destroy" not in message

    out = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    inv = inventory(Context(cfg, Clients(cfg)))
    assert inv.empty, inv.lines()
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# -- every read a client uses answers for the engine's stacks ---------------------------------------


def _cli_template(retention: int, *, stream: bool) -> str:
    resources: dict[str, Any] = {
        "Group": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "cli-deploy", "RetentionInDays": retention},
        }
    }
    if stream:
        resources["Stream"] = {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "Group"}, "LogStreamName": "s"},
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "aws cloudformation deploy against the local AWS",
        "Parameters": {"Env": {"Type": "String", "Default": "test", "AllowedValues": ["test", "prod"]}},
        "Resources": resources,
    }
    return json.dumps(template, indent=1)


def _aws_cli(emulator: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the AWS CLI in a wall-clock second of its own.

    `aws cloudformation deploy` names its change set `awscli-cloudformation-package-deploy-<int(time())>`,
    and a stack keeps a FAILED ("no changes") change set, so on AWS as here two deploys of one stack in
    the same second collide with AlreadyExistsException. Wait for the next second, as a person would.
    """
    started = int(time.time())
    wait_for(lambda: int(time.time()) > started, timeout=2.0, what="the next wall-clock second", cap=0.2)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": emulator.region,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    aws = Path(sys.executable).parent / "aws"
    return subprocess.run(
        [str(aws), "--endpoint-url", emulator.endpoint, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_aws_cli_cloudformation_deploy_creates_reruns_with_no_changes_and_updates(emulator, tmp_path):
    template = tmp_path / "template.json"
    deploy_args = [
        "cloudformation",
        "deploy",
        "--template-file",
        str(template),
        "--stack-name",
        "cli-stack",
        "--no-fail-on-empty-changeset",
    ]
    cf, logs = emulator.client("cloudformation"), emulator.client("logs")

    template.write_text(_cli_template(7, stream=False))
    out = _aws_cli(emulator, *deploy_args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Successfully created/updated stack - cli-stack" in out.stdout
    assert cf.describe_stacks(StackName="cli-stack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    emulator.reset_calls()
    out = _aws_cli(emulator, *deploy_args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No changes to deploy. Stack cli-stack is up to date" in out.stdout
    assert emulator.call_count("cloudformation", "GetTemplateSummary") == 1
    assert emulator.call_count("cloudformation", "ExecuteChangeSet") == 0

    template.write_text(_cli_template(14, stream=True))
    out = _aws_cli(emulator, *deploy_args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Successfully created/updated stack - cli-stack" in out.stdout
    assert cf.describe_stacks(StackName="cli-stack")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    group = logs.describe_log_groups(logGroupNamePrefix="cli-deploy")["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName="cli-deploy")["logStreams"]
    ] == ["s"]


def test_template_summary_and_validation_answer_for_the_engines_stacks(emulator):
    cf, s3 = emulator.client("cloudformation"), emulator.client("s3")
    body = _cli_template(7, stream=True)
    cf.create_stack(StackName="summary", TemplateBody=body)
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="t.json", Body=body.encode())
    url = "https://templates.s3.amazonaws.com/t.json"

    by_stack = cf.get_template_summary(StackName="summary")
    for other in (cf.get_template_summary(TemplateBody=body), cf.get_template_summary(TemplateURL=url)):
        assert {k: v for k, v in other.items() if k != "ResponseMetadata"} == {
            k: v for k, v in by_stack.items() if k != "ResponseMetadata"
        }
    assert by_stack["Parameters"] == [
        {
            "ParameterKey": "Env",
            "DefaultValue": "test",
            "ParameterType": "String",
            "NoEcho": False,
            "ParameterConstraints": {"AllowedValues": ["test", "prod"]},
        }
    ]
    assert by_stack["ResourceTypes"] == ["AWS::Logs::LogGroup", "AWS::Logs::LogStream"]
    assert by_stack["Version"] == "2010-09-09"
    assert by_stack["Description"] == "aws cloudformation deploy against the local AWS"
    assert {s["ResourceType"]: s["LogicalResourceIds"] for s in by_stack["ResourceIdentifierSummaries"]} == {
        "AWS::Logs::LogGroup": ["Group"],
        "AWS::Logs::LogStream": ["Stream"],
    }
    assert "Capabilities" not in by_stack

    iam = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r"}}}}
    summary = cf.get_template_summary(TemplateBody=json.dumps(iam))
    assert summary["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert "AWS::IAM::Role" in summary["CapabilitiesReason"]

    valid = cf.validate_template(TemplateBody=body)
    assert valid["Parameters"] == [{"ParameterKey": "Env", "DefaultValue": "test", "NoEcho": False}]
    assert valid["Description"] == "aws cloudformation deploy against the local AWS"
    assert cf.validate_template(TemplateURL=url)["Parameters"] == valid["Parameters"]

    unknown = json.dumps({"Resources": {"X": {"Type": "AWS::Nope::Thing"}}})
    for call in (
        lambda: cf.validate_template(TemplateBody=unknown),
        lambda: cf.get_template_summary(TemplateBody=unknown),
        lambda: cf.validate_template(TemplateBody="{not json"),
        lambda: cf.get_template_summary(StackName="no-such-stack"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "ValidationError"
    lenient = cf.get_template_summary(
        TemplateBody=unknown, TemplateSummaryConfig={"TreatUnrecognizedResourceTypesAsWarnings": True}
    )
    assert lenient["Warnings"]["UnrecognizedResourceTypes"] == ["AWS::Nope::Thing"]


def test_stack_resources_and_change_sets_are_read_from_the_engine(emulator):
    cf = emulator.client("cloudformation")
    cf.create_change_set(
        StackName="reads",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=_cli_template(7, stream=True),
    )
    [summary] = cf.list_change_sets(StackName="reads")["Summaries"]
    assert (summary["ChangeSetName"], summary["Status"], summary["ExecutionStatus"]) == (
        "first",
        "CREATE_COMPLETE",
        "AVAILABLE",
    )
    described = cf.describe_change_set(StackName="reads", ChangeSetName="first")
    assert sorted(c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]) == [
        "Group",
        "Stream",
    ]
    cf.execute_change_set(StackName="reads", ChangeSetName="first")

    listed = cf.list_stack_resources(StackName="reads")["StackResourceSummaries"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"], r["ResourceStatus"]) for r in listed] == [
        ("Group", "cli-deploy", "CREATE_COMPLETE"),
        ("Stream", "s", "CREATE_COMPLETE"),
    ]
    described_all = cf.describe_stack_resources(StackName="reads")["StackResources"]
    assert [r["LogicalResourceId"] for r in described_all] == ["Group", "Stream"]
    by_physical = cf.describe_stack_resources(PhysicalResourceId="cli-deploy")["StackResources"]
    assert {r["StackName"] for r in by_physical} == {"reads"}
    one = cf.describe_stack_resource(StackName="reads", LogicalResourceId="Stream")["StackResourceDetail"]
    assert (one["ResourceType"], one["PhysicalResourceId"]) == ("AWS::Logs::LogStream", "s")

    with pytest.raises(ClientError) as exc:  # not moto's answer from its own (empty) stack store
        cf.get_stack_policy(StackName="reads")
    assert _code(exc) == "NotImplemented"
