"""Tag keys valid under every published rule: the env tag is `otlp2pipeline-env` (CloudFormation's S3 Tables
schema lists no `:`), user tags keep to the same rule, the local S3 Tables refuses what that rule refuses,
and an env deployed with the old key gets the new one in place: nothing is replaced."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks import settings
from tasks.config import load
from tests.deploy_helpers import deploy, mutating, run

SIGNALS = ("logs", "traces", "sum", "gauge")


def test_local_s3_tables_refuses_a_colon_in_tag_keys_and_values(emulator: Any) -> None:
    s3t = emulator.client("s3tables")
    for tags in ({"a:b": "x"}, {"a": "x:y"}):
        with pytest.raises(ClientError) as err:
            s3t.create_table_bucket(name="tagged", tags=tags)
        assert err.value.response["Error"]["Code"] == "BadRequestException"
    arn = s3t.create_table_bucket(name="tagged", tags={"otlp2pipeline-env": "t"})["arn"]
    with pytest.raises(ClientError) as err:
        s3t.tag_resource(resourceArn=arn, tags={"otlp2pipeline:env": "t"})
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    s3t.tag_resource(resourceArn=arn, tags={"team": "obs"})
    assert s3t.list_tags_for_resource(resourceArn=arn)["tags"] == {"otlp2pipeline-env": "t", "team": "obs"}
    s3t.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert s3t.list_tags_for_resource(resourceArn=arn)["tags"] == {"otlp2pipeline-env": "t"}


def _physical_ids(emu: Any, stack: str) -> dict[str, str]:
    resources = emu.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def test_an_env_with_the_old_tag_key_is_retagged_in_place(emulator: Any, monkeypatch: Any) -> None:
    # An env as an older tool left it. The old key had a `:`, which the local S3 Tables refuses (the strict
    # reading), so the stack stands in with another retired key of the tool; the streams get the real one.
    monkeypatch.setattr(settings, "ENV_TAG", "otlp2pipeline-environment")
    deploy(emulator, {"ingest.enabled": "false"})
    cfg = load("local", {"endpoint": emulator.endpoint, "ingest.enabled": "false"})
    fh = emulator.client("firehose")
    for s in SIGNALS:
        name = cfg.stream_name(s)
        fh.untag_delivery_stream(DeliveryStreamName=name, TagKeys=["otlp2pipeline-environment"])
        fh.tag_delivery_stream(
            DeliveryStreamName=name,
            Tags=[{"Key": "otlp2pipeline:env", "Value": "local"}, {"Key": "CostCenter", "Value": "42"}],
        )
    before = _physical_ids(emulator, cfg.stack_name)
    created = {s: fh.describe_delivery_stream(DeliveryStreamName=cfg.stream_name(s)) for s in SIGNALS}
    monkeypatch.undo()

    plan = {r.name: r.diff for r in run(emulator, {"ingest.enabled": "false"}).plan()}
    stream_change = plan["stream_logs"].changes[0]
    assert stream_change.action == "update" and stream_change.reason == "tags in place"
    assert stream_change.fields["Tags"] == ({"otlp2pipeline:env": "local"}, {"otlp2pipeline-env": "local"})
    assert {c.action for d in plan.values() if d is not None for c in d.changes} == {"update"}

    emulator.reset_calls()
    deploy(emulator, {"ingest.enabled": "false"})
    writes = mutating(emulator)
    assert not any(op.startswith(("firehose:Create", "firehose:Delete")) for op in writes), writes
    assert writes["firehose:TagDeliveryStream"] == writes["firehose:UntagDeliveryStream"] == len(SIGNALS)
    assert _physical_ids(emulator, cfg.stack_name) == before  # nothing replaced
    bucket_arn = before["TableBucket"]
    tags = emulator.client("s3tables").list_tags_for_resource(resourceArn=bucket_arn)["tags"]
    assert tags == cfg.all_tags and tags["otlp2pipeline-env"] == "local"
    for s in SIGNALS:
        name = cfg.stream_name(s)
        desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        assert desc["CreateTimestamp"] == created[s]["DeliveryStreamDescription"]["CreateTimestamp"]
        stream_tags = {
            t["Key"]: t["Value"] for t in fh.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"]
        }
        assert stream_tags == {**cfg.all_tags, "CostCenter": "42"}  # someone else's tag is kept

    emulator.reset_calls()
    deploy(emulator, {"ingest.enabled": "false"})
    assert mutating(emulator) == {}
