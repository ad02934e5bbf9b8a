"""The stack's CloudWatch alarms: each exists, watches its metric as the Firehose and Lambda guides name
it, notifies where alarms.email / alarms.topic_arn say; that topic exists, CloudWatch may publish to it
(its policy, its key), and the email subscription is confirmed. On a real account, the first proof that
the alarms are wired."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.doctor import deploy_command
from verify import expect


@pytest.fixture(scope="module")
def alarms(clients, config) -> dict[str, dict[str, Any]]:
    """The env's alarms by name: one DescribeAlarms by the env's prefix (pages followed)."""
    cloudwatch = clients.client("cloudwatch")
    out: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"AlarmNamePrefix": config.alarm_prefix, "MaxRecords": 100}
    while True:
        page = cloudwatch.describe_alarms(**kwargs)
        out.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def _topic(config, stack_outputs) -> str | None:
    if config.alarms.email:
        topic = stack_outputs.get("AlarmTopicArn")
        assert topic, f"stack {config.stack_name} has no AlarmTopicArn output: run `{deploy_command(config)}`"
        return str(topic)
    return config.alarms.topic_arn


def test_every_alarm_exists_and_watches_its_metric(alarms, config):
    for name, (namespace, metric, dims, statistic) in expect.expected_alarms(config).items():
        assert name in alarms, f"alarm {name} does not exist: run `{deploy_command(config)}`"
        a = alarms[name]
        got = (
            a.get("Namespace"),
            a.get("MetricName"),
            {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
        )
        assert got == (namespace, metric, dims), (
            f"alarm {name} watches {got}, expected {(namespace, metric, dims)}"
        )
        assert a.get("Statistic") == statistic, (
            f"alarm {name}: Statistic {a.get('Statistic')}, expected {statistic}"
        )
        treat = expect.treat_missing_data(config, name)
        assert a.get("TreatMissingData") == treat, (
            f"alarm {name}: TreatMissingData {a.get('TreatMissingData')}, expected {treat}"
        )
        assert a.get("ActionsEnabled") is True, f"alarm {name}: its actions are disabled"


def test_the_alarms_notify_the_configured_topic(alarms, config, stack_outputs):
    topic = _topic(config, stack_outputs)
    want = [topic] if topic else []
    for name in expect.expected_alarms(config):
        a = alarms.get(name)
        if a is None:
            continue  # the test above names it
        got = (a.get("AlarmActions", []), a.get("OKActions", []))
        assert got == (want, want), (
            f"alarm {name} notifies {got}, expected {want} (alarms.email / alarms.topic_arn)"
        )
    if not topic:
        warnings.warn(
            f"env {config.env}: the alarms notify nobody (set alarms.email or alarms.topic_arn)", stacklevel=1
        )


def _allows_cloudwatch(policy: dict[str, Any]) -> bool:
    """A statement allowing CloudWatch (or the account's own principals, SNS's default) to publish."""
    for st in policy.get("Statement", []):
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") != "Allow" or not any(
            a.lower() in ("sns:publish", "sns:*", "*") for a in actions
        ):
            continue
        principal = st.get("Principal")
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if principal == "*" or "cloudwatch.amazonaws.com" in services or principal == {"AWS": "*"}:
            return True
    return False


def test_cloudwatch_may_publish_to_the_topic_and_the_email_is_confirmed(clients, config, stack_outputs):
    topic = _topic(config, stack_outputs)
    if not topic:
        pytest.skip(f"env {config.env} notifies nobody: no topic to check")
    sns = clients.client("sns")
    try:
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    except ClientError as exc:
        raise AssertionError(f"topic {topic} cannot be read: {exc.response['Error']['Code']}") from None
    key = attrs.get("KmsMasterKeyId", "")
    assert not key.endswith("alias/aws/sns"), (
        f"topic {topic} is encrypted with the AWS managed key alias/aws/sns: CloudWatch alarms cannot "
        "publish to it; use a customer managed key whose policy allows cloudwatch.amazonaws.com "
        "kms:Decrypt and kms:GenerateDataKey*"
    )
    assert _allows_cloudwatch(json.loads(attrs.get("Policy") or "{}")), (
        f"topic {topic}'s policy does not let cloudwatch.amazonaws.com sns:Publish"
    )
    if not config.alarms.email:
        return
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    mine = [s for s in subs if s.get("Protocol") == "email" and s.get("Endpoint") == config.alarms.email]
    assert mine, (
        f"topic {topic} has no email subscription for {config.alarms.email}: run `{deploy_command(config)}`"
    )
    pending = mine[0]["SubscriptionArn"] == "PendingConfirmation" or (
        sns.get_subscription_attributes(SubscriptionArn=mine[0]["SubscriptionArn"])["Attributes"].get(
            "PendingConfirmation"
        )
        == "true"
    )
    if pending:
        warnings.warn(
            f"the email subscription of {config.alarms.email} to {topic} is pending: follow the link SNS "
            "mailed there, or no alarm reaches it",
            stacklevel=1,
        )
