"""CloudWatch alarm operations as AWS answers them: PutMetricAlarm's rules, DescribeAlarms' filters and
pages, and an alarm's SNS action: published when the topic's policy and key let CloudWatch, a failed
Action in the history when they do not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cli.alarm_helpers import next_minute

BASE: dict[str, Any] = {
    "Namespace": "AWS/Lambda",
    "MetricName": "Errors",
    "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 0.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"Period": 45}, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        ({"Period": 3540, "EvaluationPeriods": 25}, "ValidationError", "must be at most 86400 seconds"),
        (
            {"DatapointsToAlarm": 2},
            "ValidationError",
            "DatapointsToAlarm must be between 1 and EvaluationPeriods",
        ),
        ({"TreatMissingData": "zero"}, "ValidationError", "Option zero is not supported"),
        ({"ComparisonOperator": "Above"}, "ValidationError", "comparisonOperator"),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination", "not both"),
        (
            {"AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:t"]},
            "ValidationError",
            "Invalid region eu-west-1",
        ),
    ],
)
def test_put_metric_alarm_refuses_what_cloudwatch_refuses(
    emulator: Any, change: dict[str, Any], code: str, words: str
):
    cw = emulator.client("cloudwatch")
    with pytest.raises(ClientError) as caught:
        cw.put_metric_alarm(AlarmName="a", **{**BASE, **change})
    assert caught.value.response["Error"]["Code"] == code
    assert words in caught.value.response["Error"]["Message"]
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_describe_alarms_filters_and_pages(emulator: Any) -> None:
    next_minute(emulator)  # the state set below holds until the next whole minute's evaluation makes it OK
    cw = emulator.client("cloudwatch")
    for name in ("env-a-1", "env-a-2", "env-a-3", "env-b-1"):
        cw.put_metric_alarm(AlarmName=name, **BASE, TreatMissingData="notBreaching")
    cw.set_alarm_state(AlarmName="env-a-2", StateValue="ALARM", StateReason="test")
    first = cw.describe_alarms(AlarmNamePrefix="env-a-", MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == ["env-a-1", "env-a-2"]
    second = cw.describe_alarms(AlarmNamePrefix="env-a-", MaxRecords=2, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == ["env-a-3"] and "NextToken" not in second
    alarming = cw.describe_alarms(AlarmNamePrefix="env-", StateValue="ALARM")["MetricAlarms"]
    assert [(a["AlarmName"], a["StateReason"]) for a in alarming] == [("env-a-2", "test")]
    with pytest.raises(ClientError) as caught:
        cw.describe_alarms(MaxRecords=101)
    assert caught.value.response["Error"]["Code"] in ("ValidationError", "ParamValidation")


def _topic_with_queue(emu: Any, **attributes: str) -> tuple[str, str]:
    sns, sqs = emu.client("sns"), emu.client("sqs")
    topic = sns.create_topic(Name="alarms", Attributes=attributes)["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, queue


def _alarm_on(emu: Any, topic: str) -> list[dict[str, Any]]:
    """Put an alarm notifying `topic`, set it to ALARM; its Action history items."""
    cw = emu.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="a", **BASE, TreatMissingData="ignore", AlarmActions=[topic], OKActions=[topic]
    )
    cw.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="made for the test")
    return list(cw.describe_alarm_history(AlarmName="a", HistoryItemType="Action")["AlarmHistoryItems"])


def test_the_default_topic_policy_lets_the_accounts_alarm_publish(emulator: Any) -> None:
    topic, queue = _topic_with_queue(emulator)
    (action,) = _alarm_on(emulator, topic)
    assert action["HistorySummary"] == f"Successfully executed action {topic}"
    (msg,) = emulator.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(msg["Body"])
    assert (body["AlarmName"], body["OldStateValue"], body["NewStateValue"]) == (
        "a",
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert body["NewStateReason"] == "made for the test" and body["Region"] == "US East (N. Virginia)"
    assert body["Trigger"]["Dimensions"] == [{"value": "f", "name": "FunctionName"}]


def test_a_topic_policy_without_cloudwatch_refuses_the_action(emulator: Any) -> None:
    topic, queue = _topic_with_queue(emulator)
    me = {"AWS": f"arn:aws:iam::{emulator.account_id}:root"}
    only_me = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": me, "Action": "sns:Publish", "Resource": topic}],
    }
    emulator.client("sns").set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(only_me)
    )
    (action,) = _alarm_on(emulator, topic)
    assert action["HistorySummary"].startswith(f"Failed to execute action {topic}. Received error:")
    assert "is not authorized to perform: SNS:Publish" in action["HistorySummary"]
    assert emulator.client("sqs").receive_message(QueueUrl=queue).get("Messages", []) == []


def test_a_topic_under_the_aws_managed_key_refuses_the_action(emulator: Any) -> None:
    topic, _ = _topic_with_queue(emulator, KmsMasterKeyId="alias/aws/sns")
    (action,) = _alarm_on(emulator, topic)
    assert (
        "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
        in (action["HistorySummary"])
    )


def test_a_customer_key_must_let_cloudwatch_use_it(emulator: Any) -> None:
    kms = emulator.client("kms")
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{emulator.account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    bare = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [root]}))["KeyMetadata"][
        "Arn"
    ]
    topic, _ = _topic_with_queue(emulator, KmsMasterKeyId=bare)
    (action,) = _alarm_on(emulator, topic)
    assert "does not have authorization to access the SNS topic encryption key" in action["HistorySummary"]

    emulator.reset()
    cloudwatch = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    kms = emulator.client("kms")
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [root, cloudwatch]}))[
        "KeyMetadata"
    ]["Arn"]
    topic, _ = _topic_with_queue(emulator, KmsMasterKeyId=key)
    (action,) = _alarm_on(emulator, topic)
    assert action["HistorySummary"] == f"Successfully executed action {topic}"
