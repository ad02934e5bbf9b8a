"""The alarm types in the local AWS's CloudFormation: AWS::CloudWatch::Alarm, AWS::SNS::Topic (under a
KMS key), AWS::SNS::TopicPolicy and AWS::SNS::Subscription, created, updated in place, checked against
their resource schemas, and deleted; the stack's alarm can notify the stack's topic."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tests.cli.alarm_helpers import next_minute

ALARMS = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:t-*"
ROOT = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "PendingWindowInDays": 7,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": ROOT, "Action": "kms:*", "Resource": "*"},
                        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
                    ],
                },
            },
        },
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": "t-alarms",
                "DisplayName": "t",
                "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                "Tags": [{"Key": "otlp2pipeline:env", "Value": "t"}],
            },
        },
        "Policy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "Topic"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                         "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
                         "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::Sub": ALARMS}}}},
                    ],
                },
            },
        },
        "Mail": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "ops@example.com"},
        },
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "t-logs-records-to-error-bucket",
                "AlarmDescription": "records went to the error bucket",
                "Namespace": "AWS/Firehose",
                "MetricName": "DeliveryToIceberg.FailedRowCount",
                "Dimensions": [{"Name": "DeliveryStreamName", "Value": "t-logs"}],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "Topic"}],
                "OKActions": [{"Ref": "Topic"}],
                "Tags": [{"Key": "otlp2pipeline:env", "Value": "t"}],
            },
        },
    },
    "Outputs": {
        "AlarmName": {"Value": {"Ref": "Alarm"}},
        "AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}},
        "TopicArn": {"Value": {"Ref": "Topic"}},
        "TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}},
        "Mail": {"Value": {"Ref": "Mail"}},
    },
}  # fmt: skip


def _wait(cfn: Any, waiter: str) -> None:
    cfn.get_waiter(waiter).wait(StackName="alarms", WaiterConfig={"Delay": 1})


def _outputs(cfn: Any) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName="alarms")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_alarm_topic_policy_and_email_subscription_in_a_stack(emulator: Any) -> None:
    # The state set below lasts until the alarm's next evaluation, at the next whole minute (missing data,
    # not breaching: OK); the stack's update must come before it, so the test starts a minute afresh.
    next_minute(emulator)
    cfn, cw, sns = (emulator.client(s) for s in ("cloudformation", "cloudwatch", "sns"))
    cfn.create_stack(StackName="alarms", TemplateBody=json.dumps(TEMPLATE))
    _wait(cfn, "stack_create_complete")
    out = _outputs(cfn)
    topic = f"arn:aws:sns:{emulator.region}:{emulator.account_id}:t-alarms"
    assert out["TopicArn"] == topic and out["TopicName"] == "t-alarms"
    assert out["AlarmName"] == "t-logs-records-to-error-bucket"
    assert (
        out["AlarmArn"]
        == f"arn:aws:cloudwatch:{emulator.region}:{emulator.account_id}:alarm:{out['AlarmName']}"
    )
    (alarm,) = cw.describe_alarms(AlarmNames=[out["AlarmName"]])["MetricAlarms"]
    assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
    assert alarm["StateValue"] == "OK"  # evaluated at once: no data, notBreaching
    tags = cw.list_tags_for_resource(ResourceARN=out["AlarmArn"])["Tags"]
    assert {"Key": "otlp2pipeline:env", "Value": "t"} in tags
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["KmsMasterKeyId"].startswith(f"arn:aws:kms:{emulator.region}:")
    assert json.loads(attrs["Policy"])["Statement"][0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [
        {"Key": "otlp2pipeline:env", "Value": "t"}
    ]
    mail = sns.get_subscription_attributes(SubscriptionArn=out["Mail"])["Attributes"]
    assert (mail["Protocol"], mail["Endpoint"], mail["PendingConfirmation"]) == (
        "email",
        "ops@example.com",
        "true",
    )

    cw.set_alarm_state(AlarmName=out["AlarmName"], StateValue="ALARM", StateReason="test")
    history = cw.describe_alarm_history(AlarmName=out["AlarmName"], HistoryItemType="Action")
    assert history["AlarmHistoryItems"][0]["HistorySummary"] == f"Successfully executed action {topic}"

    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["Alarm"]["Properties"]["AlarmDescription"] = "changed"
    changed["Resources"]["Topic"]["Properties"]["DisplayName"] = "t2"
    cfn.update_stack(StackName="alarms", TemplateBody=json.dumps(changed))
    _wait(cfn, "stack_update_complete")
    (alarm,) = cw.describe_alarms(AlarmNames=[out["AlarmName"]])["MetricAlarms"]
    assert (alarm["AlarmDescription"], alarm["StateValue"]) == ("changed", "ALARM")  # in place: state kept
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "t2"
    assert [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        "ops@example.com"
    ]

    cfn.delete_stack(StackName="alarms")
    _wait(cfn, "stack_delete_complete")
    assert cw.describe_alarms(AlarmNames=[out["AlarmName"]])["MetricAlarms"] == []
    assert topic not in {t["TopicArn"] for t in sns.list_topics()["Topics"]}


@pytest.mark.parametrize(
    ("resource", "change", "words"),
    [
        ("Alarm", {"TreatMissingData": "zero"}, "#/TreatMissingData"),
        ("Alarm", {"Thresold": 1}, "Additional properties are not allowed"),
        ("Alarm", {"Period": 45}, "Period must be 10, 20, 30 or a multiple of 60"),
        ("Mail", {"Protocol": None}, "'Protocol' is a required property"),
        (
            "Topic",
            {"TopicArn": "arn:aws:sns:us-east-1:123456789012:x"},
            "Additional properties are not allowed",
        ),
    ],
)
def test_properties_outside_the_schema_or_the_api_fail_the_resource(
    emulator: Any, resource: str, change: dict[str, Any], words: str
) -> None:
    cfn = emulator.client("cloudformation")
    body = copy.deepcopy(TEMPLATE)
    props = body["Resources"][resource]["Properties"]
    props.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        props.pop(key)
    cfn.create_stack(StackName="alarms", TemplateBody=json.dumps(body))
    with pytest.raises(WaiterError):
        _wait(cfn, "stack_create_complete")
    events = cfn.describe_stack_events(StackName="alarms")["StackEvents"]
    (failed,) = [
        e for e in events if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == resource
    ]
    assert words in failed["ResourceStatusReason"], failed["ResourceStatusReason"]
