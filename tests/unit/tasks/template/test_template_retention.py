"""Retention in the template (templates/retention.yaml.j2): nothing of it without a window; with one, the
function runs retention/ from its own zip key with the config's windows, its role may only read the env's
table bucket, drop days of its tables, publish in its own namespace and write its own logs; the daily
schedule's role may only invoke it; the two retention alarms watch the runs' metric. Lint and checkov
run over these variants with the others (test_template_lint.py, test_template_alarms.py)."""

from __future__ import annotations

from typing import Any

import yaml

from tasks import alarms, template
from tasks import config as cfg
from tests.lint.templates.test_template_iam import _parliament, _policies, _writes_on_star
from tests.unit.tasks.template.rendered import ACCOUNT, _alarm_variant

RETENTION_TYPES = {
    "RetentionLogGroup": "AWS::Logs::LogGroup",
    "RetentionDeadLetterQueue": "AWS::SQS::Queue",
    "RetentionFunctionRole": "AWS::IAM::Role",
    "RetentionFunction": "AWS::Lambda::Function",
    "RetentionScheduleRole": "AWS::IAM::Role",
    "RetentionSchedule": "AWS::Scheduler::Schedule",
}


def _doc(variant: str) -> tuple[cfg.Config, dict[str, Any]]:
    config, text = _alarm_variant(variant)
    return config, yaml.safe_load(text)


def test_no_window_renders_nothing_of_retention():
    for env in ("prod", "local"):
        doc = template.parsed(cfg.load(env))
        assert not [k for k in doc["Resources"] if k.startswith("Retention")]
        assert "RetentionCodeKey" not in (doc.get("Parameters") or {})
    plain = template.parsed(cfg.load("local", {"ingest.enabled": "false"}))
    assert "EnvKey" not in plain["Resources"]  # no function, no env key: as before retention existed


def test_the_function_and_its_schedule():
    for variant in ("retention", "retention-no-ingest"):
        config, doc = _doc(variant)
        res = doc["Resources"]
        assert {k: res[k]["Type"] for k in RETENTION_TYPES} == RETENTION_TYPES
        fn = res["RetentionFunction"]["Properties"]
        assert fn["Handler"] == "retention.lambda_handler.handler"
        assert fn["Code"]["S3Key"] == {"Ref": "RetentionCodeKey"}
        env = fn["Environment"]["Variables"]
        assert env["RETENTION_WINDOWS"] == {"Ref": "RetentionWindows"}
        assert env["RETENTION_ENV"] == config.env and env["RETENTION_NAMESPACE"] == config.namespace
        assert fn["KmsKeyArn"] == {"Fn::GetAtt": ["EnvKey", "Arn"]}
        params = doc["Parameters"]
        assert params["RetentionCodeKey"]["AllowedPattern"] == "^retention/[a-z0-9-]+/[0-9a-f]{64}[.]zip$"
        assert "RetentionWindows" in params
        schedule = res["RetentionSchedule"]["Properties"]
        assert schedule["ScheduleExpression"] == "cron(15 0 * * ? *)"
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["Arn"] == {"Fn::GetAtt": ["RetentionFunction", "Arn"]}
        assert schedule["Target"]["Input"] == '{"scheduled_time": "<aws.scheduler.scheduled-time>"}'
        assert set(template.RETENTION_OUTPUT_KEYS) <= set(doc["Outputs"])
        key = res["EnvKey"]["Properties"]["KeyPolicy"]["Statement"][1]["Condition"]["ArnEquals"]
        groups = str(key["kms:EncryptionContext:aws:logs:arn"])
        assert f"log-group:/aws/lambda/{config.retention_function_name}" in groups


def test_the_roles_are_least_privilege_and_pass_parliament():
    config, doc = _doc("retention")
    policies = {where: (kind, p) for where, kind, p in _policies(doc, config.region)}
    bucket = f"arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/{config.table_bucket_name}"
    _, policy = policies["RetentionFunctionRole.retention-function"]
    actions = {a: st for st in policy["Statement"] for a in st["Action"]}
    assert set(actions) == {
        "s3tables:GetTableBucket",
        "s3tables:GetTableMetadataLocation",
        "s3tables:GetTableData",
        "s3tables:PutTableData",
        "s3tables:UpdateTableMetadataLocation",
        "cloudwatch:PutMetricData",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "sqs:SendMessage",
    }
    assert actions["s3tables:GetTableBucket"]["Resource"] == [bucket]
    assert actions["s3tables:UpdateTableMetadataLocation"]["Resource"] == [f"{bucket}/table/*"]
    metrics = actions["cloudwatch:PutMetricData"]
    assert metrics["Resource"] == "*"  # PutMetricData takes no resource: the namespace condition scopes it
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "otlp2pipeline/Retention"}}
    _, invoke = policies["RetentionScheduleRole.invoke-retention-function"]
    (st,) = invoke["Statement"]
    assert st["Action"] == ["lambda:InvokeFunction"] and "function:" in str(st["Resource"])
    _, trust = policies["RetentionScheduleRole.AssumeRolePolicyDocument"]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    for where, (kind, doc_) in policies.items():
        if where.startswith("Retention"):
            role = f"arn:aws:iam::{ACCOUNT}:role/{where.split('.')[0].lower()}-generated"
            assert _parliament(doc_, kind, role) == [], where
            assert _writes_on_star(doc_) == [], where


def test_the_retention_alarms_watch_the_runs_metric():
    config, _ = _doc("retention")
    by = {a.cause: a for a in alarms.alarms(config) if a.scope == "retention"}
    dims = (("Env", config.env),)
    assert {c: (a.namespace, a.metric, a.dimensions, a.statistic) for c, a in by.items()} == {
        "failed": ("otlp2pipeline/Retention", "RunFailed", dims, "Minimum"),
        "missing": ("otlp2pipeline/Retention", "RunFailed", dims, "Minimum"),
    }
    assert (by["failed"].period, by["failed"].treat_missing_data) == (3600, "notBreaching")
    assert (by["missing"].period, by["missing"].treat_missing_data) == (26 * 3600, "breaching")
    for a in by.values():
        assert (a.comparison, a.threshold) == ("GreaterThanOrEqualToThreshold", 1.0)
    assert by["failed"].name == "otlp2pipeline-prod-retention-failed"
