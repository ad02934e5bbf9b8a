"""An alarm's SNS action: what CloudWatch publishes when an alarm changes state, and what stops it.

CloudWatch publishes as the service principal ``cloudwatch.amazonaws.com``, so, as on AWS:
- the topic must exist, in the alarm's region;
- the topic's resource policy must allow that principal ``sns:Publish`` (an explicit Deny wins; the
  conditions on ``aws:SourceArn`` (the alarm's ARN), ``aws:SourceAccount`` and ``AWS:SourceOwner`` (the
  alarm's account) are evaluated; SNS's default policy allows the account's own alarms);
- a topic encrypted with the AWS managed key ``alias/aws/sns`` refuses it ("CloudWatch Alarms does not
  have authorization to access the SNS topic encryption key."), and a customer managed key must be enabled
  and allow the principal ``kms:GenerateDataKey*`` and ``kms:Decrypt`` in its key policy.
A refused action is a failed Action item in the alarm's history, as CloudWatch records it. A published
notification is recorded by moto's topic (``Topic.sent_notifications``) and delivered to the topic's SQS,
Lambda and HTTP subscriptions; email is never sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from moto.cloudwatch.models import Alarm

from emulator.iam import policy

SERVICE = "cloudwatch.amazonaws.com"
KMS_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def allows(document: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether a resource policy lets CloudWatch perform ``action`` on ``resource`` (explicit Deny wins)."""
    return policy.allows(
        document,
        action,
        (resource,),
        principal=lambda p: policy.names_principal(p, service=SERVICE, any_aws=True),
        context=context,
    )


def _key_error(account_id: str, region: str, key_id: str) -> str | None:
    from moto.kms.models import kms_backends

    if key_id.startswith("alias/aws/") or key_id.endswith(":alias/aws/sns"):
        return "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
    kms = kms_backends[account_id][region]
    try:
        key = kms.keys[kms.any_id_to_key_id(key_id)]
    except (KeyError, TypeError, AttributeError):
        return f"The SNS topic's KMS key {key_id} does not exist."
    if key.key_state != "Enabled":
        return f"The SNS topic's KMS key {key_id} is {key.key_state}."
    try:
        key_policy = json.loads(key.policy) if isinstance(key.policy, str) else dict(key.policy)
    except ValueError:
        key_policy = {}
    for action in KMS_ACTIONS:
        if not allows(key_policy, action, "*", {"aws:SourceAccount": account_id}):
            return "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
    return None


@cache
def region_name(region: str) -> str:
    """The region's long name, as CloudWatch writes it in a notification ("US East (N. Virginia)")."""
    from botocore.loaders import create_loader

    for part in create_loader().load_data("endpoints")["partitions"]:
        described = part.get("regions", {}).get(region, {}).get("description")
        if described:
            return str(described)
    return region


def message(account_id: str, region: str, alarm: Alarm, old_state: str, when: datetime) -> dict[str, Any]:
    """The JSON document CloudWatch publishes for a state change."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp.strftime(
            "%Y-%m-%dT%H:%M:%S.%f"
        )[:-3]
        + "+0000",
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": stamp,
        "Region": region_name(region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic).upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def run_action(
    account_id: str, region: str, alarm: Alarm, old_state: str, arn: str, when: datetime
) -> str | None:
    """Publish the state change to the SNS topic ``arn``; the error CloudWatch would record, or None."""
    from moto.sns.exceptions import TopicNotFound
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sns":
        return f"The local AWS runs SNS actions only, not {arn}."
    topic_region, topic_account = parts[3], parts[4]
    if topic_region != region:
        return f"Invalid region {topic_region} specified. Only {region} is supported."
    sns = sns_backends[topic_account][topic_region]
    try:
        topic = sns.get_topic(arn)
    except TopicNotFound:
        return f"Topic {arn} does not exist."
    context = {
        "aws:SourceArn": alarm.alarm_arn,
        "aws:SourceAccount": account_id,
        "AWS:SourceOwner": account_id,
    }
    if not allows(json.loads(topic.policy), "sns:Publish", arn, context):
        return f"Resource: {alarm.alarm_arn} is not authorized to perform: SNS:Publish on resource: {arn}"
    key = str(getattr(topic, "kms_master_key_id", "") or "")
    if key:
        problem = _key_error(topic_account, topic_region, key)
        if problem:
            return problem
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name(region)}'[:100]
    sns.publish(json.dumps(message(account_id, region, alarm, old_state, when)), arn=arn, subject=subject)
    return None
