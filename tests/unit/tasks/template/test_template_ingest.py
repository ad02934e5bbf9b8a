"""The stack's ingest function, URL and secret (templates/ingest.yaml.j2), per setting."""

from __future__ import annotations

from typing import Any

import pytest

from tasks import config as cfg
from tasks import template
from tests.unit.tasks.template.rendered import _lint


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(cfg.CONFIG_DIR_VAR, raising=False)


def _res(overrides: dict[str, str]) -> dict[str, Any]:
    return template.parsed(cfg.load("prod", overrides))["Resources"]


def test_token_auth_function_role_url_and_secret() -> None:
    res = _res(
        {"signals": "logs,exp_histogram", "ingest.memory_mb": "1024", "ingest.reserved_concurrency": "7"}
    )
    fn = res["IngestFunction"]["Properties"]
    assert fn["FunctionName"] == "otlp2pipeline-prod-ingest"
    assert fn["Handler"] == "ingest.lambda_handler.handler"
    assert (fn["MemorySize"], fn["ReservedConcurrentExecutions"]) == (1024, 7)
    assert fn["Architectures"] == ["arm64"] and fn["Runtime"] == cfg.load("prod").ingest.function.runtime
    assert fn["Code"] == {
        "S3Bucket": {"Fn::Sub": "otlp2pipeline-artifacts-${AWS::AccountId}-us-east-1"},
        "S3Key": {"Ref": "IngestCodeKey"},
    }
    env = fn["Environment"]["Variables"]
    assert env["OTLP_STREAM_LOGS"] == "otlp2pipeline-prod-logs"
    assert env["OTLP_STREAM_EXP_HISTOGRAM"] == "otlp2pipeline-prod-exp_histogram"
    assert "OTLP_STREAM_TRACES" not in env  # only the env's signals have streams
    assert env["OTLP_AUTH"] == "token" and env["OTLP_TOKEN_SECRET_ARN"] == {"Ref": "IngestToken"}
    assert res["IngestUrl"]["Properties"]["AuthType"] == "NONE"
    assert res["IngestUrlPermission"]["Properties"]["Action"] == "lambda:InvokeFunctionUrl"
    assert res["IngestUrlInvokePermission"]["Properties"]["InvokedViaFunctionUrl"] is True
    assert res["IngestToken"]["Properties"]["GenerateSecretString"]["ExcludePunctuation"] is True
    assert res["IngestLogGroup"]["Properties"]["LogGroupName"] == "/aws/lambda/otlp2pipeline-prod-ingest"
    assert res["IngestLogGroup"]["Properties"]["RetentionInDays"] == cfg.load("prod").log_retention_days
    [policy] = res["IngestFunctionRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {
        "PutIntoThisEnvsStreams",
        "OwnLogs",
        "ReadItsToken",
        "UseTheEnvKey",
        "SendFailedAsyncEventsToItsQueue",
    }
    assert statements["UseTheEnvKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statements["UseTheEnvKey"]["Resource"] == [{"Fn::GetAtt": ["EnvKey", "Arn"]}]
    assert statements["SendFailedAsyncEventsToItsQueue"]["Action"] == ["sqs:SendMessage"]
    assert statements["SendFailedAsyncEventsToItsQueue"]["Resource"] == [
        {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    ]
    put = statements["PutIntoThisEnvsStreams"]
    assert put["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert [r["Fn::Sub"].rsplit("/", 1)[1] for r in put["Resource"]] == [
        "otlp2pipeline-prod-logs",
        "otlp2pipeline-prod-exp_histogram",
    ]
    assert statements["ReadItsToken"]["Resource"] == [{"Ref": "IngestToken"}]


def test_iam_auth_has_no_secret_and_no_public_permission() -> None:
    overrides = {"ingest.auth": "iam"}
    res = _res(overrides)
    assert res["IngestUrl"]["Properties"]["AuthType"] == "AWS_IAM"
    assert not {"IngestToken", "IngestUrlPermission", "IngestUrlInvokePermission"} & set(res)
    env = res["IngestFunction"]["Properties"]["Environment"]["Variables"]
    assert env["OTLP_AUTH"] == "iam" and "OTLP_TOKEN_SECRET_ARN" not in env
    outputs = template.parsed(cfg.load("prod", overrides))["Outputs"]
    assert "IngestTokenSecretArn" not in outputs and outputs["IngestAuth"]["Value"] == "iam"
    assert list(outputs) == template.output_keys(cfg.load("prod", overrides))
    assert _lint(template.render(cfg.load("prod", overrides))) == []


def test_disabled_ingest_is_the_stack_of_before() -> None:
    doc = template.parsed(cfg.load("prod", {"ingest.enabled": "false"}))
    assert "Parameters" not in doc
    assert not [k for k in (*doc["Resources"], *doc["Outputs"]) if k.startswith("Ingest")]
    assert _lint(template.render(cfg.load("prod", {"ingest.enabled": "false"}))) == []


def test_settings_variants_lint_clean() -> None:
    for overrides in (
        {"ingest.reserved_concurrency": "0", "ingest.architecture": "x86_64", "ingest.runtime": "python3.12"},
        {"ingest.runtime": "python3.11", "signals": "traces"},
    ):
        assert _lint(template.render(cfg.load("prod", overrides))) == [], overrides


def test_env_key_dead_letter_queue_and_access_logs() -> None:
    """ingest.enabled: one customer-managed key for both log groups, the environment and the token; a DLQ;
    the error bucket's access logs into the artifacts bucket."""
    res = _res({})
    key = res["EnvKey"]["Properties"]
    assert key["EnableKeyRotation"] is True and key["PendingWindowInDays"] == 7
    root, logs = key["KeyPolicy"]["Statement"]
    assert root["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert root["Action"] == "kms:*"
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    groups = [
        g["Fn::Sub"].rsplit(":", 1)[1]
        for g in logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    ]
    assert groups == ["/aws/kinesisfirehose/otlp2pipeline-prod", "/aws/lambda/otlp2pipeline-prod-ingest"]
    assert res["EnvKeyAlias"]["Properties"] == {
        "AliasName": "alias/otlp2pipeline-prod",
        "TargetKeyId": {"Ref": "EnvKey"},
    }
    arn = {"Fn::GetAtt": ["EnvKey", "Arn"]}
    for name in ("LogGroup", "IngestLogGroup", "IngestToken"):
        assert res[name]["Properties"]["KmsKeyId"] == arn, name
    fn = res["IngestFunction"]["Properties"]
    assert fn["KmsKeyArn"] == arn
    assert fn["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}}
    queue = res["IngestDeadLetterQueue"]["Properties"]
    assert queue["KmsMasterKeyId"] == arn and queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert res["ErrorBucket"]["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Fn::Sub": "otlp2pipeline-artifacts-${AWS::AccountId}-us-east-1"},
        "LogFilePrefix": "access-logs/prod/",
    }


def test_ingest_disabled_has_no_key_queue_or_access_logs() -> None:
    res = _res({"ingest.enabled": "false"})
    assert not {"EnvKey", "EnvKeyAlias", "IngestDeadLetterQueue"} & set(res)
    assert "KmsKeyId" not in res["LogGroup"]["Properties"]
    assert "LoggingConfiguration" not in res["ErrorBucket"]["Properties"]
    skips = {s["id"] for r in res.values() for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])}
    assert skips == {"CKV_AWS_158", "CKV_AWS_18"}
