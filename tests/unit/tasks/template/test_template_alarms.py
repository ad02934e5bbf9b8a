"""The alarms in the template (tasks/alarms.py -> templates/alarms.yaml.j2): one per row and scope, named
for what broke, watching the metric the service's guide lists, notifying where alarms.* says; the topic of
alarms.email under a key CloudWatch may use, its policy open to this env's alarms only. Every variant is
clean under cfn-lint, and its policies under parliament (checkov: test_template_lint.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from tasks import alarms, template
from tasks import config as cfg
from tasks.errors import UserError
from tests.lint.templates.test_template_iam import _parliament, _policies
from tests.unit.tasks.template.rendered import ALARM_TOPIC as TOPIC
from tests.unit.tasks.template.rendered import ALARM_VARIANTS as VARIANTS
from tests.unit.tasks.template.rendered import _alarm_variant, _lint


@cache
def _variant(name: str) -> tuple[cfg.Config, dict[str, Any], str]:
    config, text = _alarm_variant(name)
    return config, yaml.safe_load(text), text


def _alarm_resources(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in doc["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_lints_clean(variant):
    assert _lint(_variant(variant)[2]) == []


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_alarm_per_row_and_scope_as_the_rows_say(variant):
    config, doc, _ = _variant(variant)
    rendered = _alarm_resources(doc)
    expected = alarms.alarms(config)
    assert sorted(rendered) == sorted(a.logical_id for a in expected)
    for a in expected:
        props = rendered[a.logical_id]
        want = {k: v for k, v in a.template().items() if k != "logical_id"}
        assert {k: props[k] for k in want} == want
        assert props["AlarmName"].startswith(config.alarm_prefix) and len(props["AlarmName"]) <= 255
        # no traffic is not a failure; a daily retention run that did not happen is
        assert props["TreatMissingData"] == ("breaching" if a.cause == "missing" else "notBreaching")
        assert {"Key": "otlp2pipeline-env", "Value": config.env} in props["Tags"]
    signals = len(config.signals)
    assert len(expected) == 3 * signals + (3 if config.ingest.function.enabled else 0) + (
        2 if config.retention_enabled else 0
    )
    names = [a.name for a in expected]
    assert len(set(names)) == len(names)
    assert config.alarm_name("logs", "delivery-failing") in names
    assert (config.alarm_name("ingest", "errors") in names) is config.ingest.function.enabled


def test_the_metrics_are_the_guides_names_dimensions_and_statistics():
    config, _, _ = _variant("email")
    by = {(a.scope, a.cause): a for a in alarms.alarms(config)}
    stream = (("DeliveryStreamName", config.stream_name("traces")),)
    function = (("FunctionName", config.ingest_function_name),)
    assert {
        k[1]: (a.namespace, a.metric, a.dimensions, a.statistic) for k, a in by.items() if k[0] == "traces"
    } == {
        "delivery-failing": ("AWS/Firehose", "DeliveryToIceberg.Success", stream, "Sum"),
        "records-to-error-bucket": ("AWS/Firehose", "DeliveryToIceberg.FailedRowCount", stream, "Sum"),
        "data-stale": ("AWS/Firehose", "DeliveryToIceberg.DataFreshness", stream, "Maximum"),
    }
    assert {
        k[1]: (a.namespace, a.metric, a.dimensions, a.statistic) for k, a in by.items() if k[0] == "ingest"
    } == {
        "errors": ("AWS/Lambda", "Errors", function, "Sum"),
        "throttled": ("AWS/Lambda", "Throttles", function, "Sum"),
        "near-timeout": ("AWS/Lambda", "Duration", function, "Maximum"),
    }


def test_thresholds_follow_the_settings():
    config, doc, _ = _variant("email")
    by = {a.cause: a for a in alarms.alarms(config) if a.scope in ("logs", "ingest")}
    assert (
        by["delivery-failing"].threshold == 1.0 and by["delivery-failing"].comparison == "LessThanThreshold"
    )
    assert by["records-to-error-bucket"].threshold == 0.0
    # DataFreshness: the buffering interval plus five minutes, unless alarms.freshness_seconds says
    assert by["data-stale"].threshold == config.firehose.buffering_interval_seconds + 300
    assert cfg.load("prod", {"alarms.freshness_seconds": "900"}).alarms.freshness_seconds == 900
    timeout = doc["Resources"]["IngestFunction"]["Properties"]["Timeout"]
    assert by["near-timeout"].threshold == timeout * 1000 / 2  # half the function's timeout, in ms


def test_alarms_email_makes_an_encrypted_topic_with_the_subscription_and_the_actions():
    config, doc, _ = _variant("email-no-ingest")
    res = doc["Resources"]
    topic = res["AlarmTopic"]["Properties"]
    assert topic["TopicName"] == config.alarm_topic_name
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}
    key_policy = res["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in key_policy if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert res["AlarmEmail"]["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }
    (st,) = res["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert st["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and st["Action"] == "sns:Publish"
    assert st["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(f":alarm:{config.alarm_prefix}*")
    for props in _alarm_resources(doc).values():
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert doc["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert "AlarmTopicArn" in template.output_keys(config)


def test_alarms_topic_arn_notifies_that_topic_and_neither_notifies_nobody():
    _, doc, _ = _variant("topic")
    assert not any(r["Type"].startswith("AWS::SNS::") for r in doc["Resources"].values())
    for props in _alarm_resources(doc).values():
        assert props["AlarmActions"] == props["OKActions"] == [TOPIC]
    config, doc, _ = _variant("nobody")
    for props in _alarm_resources(doc).values():
        assert "AlarmActions" not in props and "OKActions" not in props
    assert "AlarmTopicArn" not in template.output_keys(config)


def test_the_topic_policy_passes_parliament():
    config, doc, _ = _variant("email")
    (policy,) = [p for where, kind, p in _policies(doc, config.region) if where == "AlarmTopicPolicy"]
    assert _parliament(policy, "resource") == []


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"alarms.email": "not an address"}, "alarms.email='not an address' is invalid"),
        (
            {"alarms.topic_arn": "arn:aws:sns:eu-west-1:123456789012:t"},
            "must be an SNS topic ARN in us-east-1",
        ),
        (
            {"alarms.topic_arn": "arn:aws-cn:sns:us-east-1:123456789012:t"},
            "arn:aws:sns:us-east-1:ACCOUNT:NAME",
        ),
        ({"alarms.topic_arn": "arn:aws:sqs:us-east-1:123456789012:t"}, "alarms.topic_arn"),
        ({"alarms.email": "a@example.com", "alarms.topic_arn": TOPIC}, "both set"),
        ({"alarms.freshness_seconds": "30"}, "alarms.freshness_seconds=30 is out of range"),
    ],
)
def test_bad_alarm_settings_are_one_line_errors(overrides, words):
    with pytest.raises(UserError) as caught:
        cfg.load("prod", overrides)
    assert words in str(caught.value) and "\n" not in str(caught.value)
