"""The CloudFormation template: what it holds, names, tags, outputs, rendering, `doit template`."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from lake.signals import ALL_SIGNALS
from tasks import config as cfg
from tasks import paths, template
from tests.unit.tasks.template.helpers import ROOT, no_credentials_env, recording_endpoint, run_doit
from tests.unit.tasks.template.rendered import ACCOUNT, ENVS, _config, _doc, _lint, _rendered

# -- tables, names, tags, outputs --------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_the_stack_holds_no_table_and_keeps_the_bucket_and_namespace(env):
    """The tables are the tables step's (tasks/steps/tables.py); what holds them is never deleted or replaced
    by a stack operation, except by the failed create that made it (then empty)."""
    doc = _doc(env, ALL_SIGNALS)
    assert not [r for r in doc["Resources"].values() if r["Type"] == "AWS::S3Tables::Table"]
    for logical in ("TableBucket", "Namespace"):
        res = doc["Resources"][logical]
        assert (res["DeletionPolicy"], res["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    role = doc["Resources"]["FirehoseRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    (data,) = [st for st in role["Statement"] if st["Sid"] == "S3TablesTableData"]
    # table ARNs end in the table's id, not its name: every table of this bucket
    assert data["Resource"] == [{"Fn::Sub": "${TableBucket.TableBucketARN}/table/*"}]


@pytest.mark.parametrize("signals", [("logs",), ("traces", "exp_histogram"), ALL_SIGNALS])
def test_only_the_env_signals_are_in_the_template(signals):
    doc = _doc("prod", signals)
    kinds: dict[str, list[dict[str, Any]]] = {}
    for res in doc["Resources"].values():
        kinds.setdefault(res["Type"], []).append(res)
    streams = sorted(r["Properties"]["LogStreamName"] for r in kinds["AWS::Logs::LogStream"])
    assert streams == sorted(f"{s}-delivery" for s in signals)
    for single in (
        "AWS::S3Tables::TableBucket",
        "AWS::S3Tables::Namespace",
        "AWS::Athena::WorkGroup",
        "AWS::Lambda::Function",
        "AWS::Lambda::Url",
        "AWS::SecretsManager::Secret",
    ):
        assert len(kinds[single]) == 1, single
    # The error bucket and the Athena results bucket, each with its TLS-only policy.
    assert len(kinds["AWS::S3::Bucket"]) == len(kinds["AWS::S3::BucketPolicy"]) == 2
    # The Firehose role and delivery log group, and the ingest function's own (ingest.enabled).
    assert len(kinds["AWS::IAM::Role"]) == len(kinds["AWS::Logs::LogGroup"]) == 2


def test_names_resources_and_settings():
    c = cfg.load("prod", {"error_expiry_days": "9", "log_retention_days": "60", "namespace": "otel"})
    res = template.parsed(c)["Resources"]
    assert res["TableBucket"]["Properties"]["TableBucketName"] == "otlp2pipeline-prod"
    assert res["TableBucket"]["Properties"]["EncryptionConfiguration"] == {"SSEAlgorithm": "AES256"}
    assert res["TableBucket"]["Properties"]["UnreferencedFileRemoval"] == {"Status": "Enabled"}
    assert res["Namespace"]["Properties"]["Namespace"] == "otel"
    assert res["LogGroup"]["Properties"] | {"Tags": None} == {
        "LogGroupName": "/aws/kinesisfirehose/otlp2pipeline-prod",
        "RetentionInDays": 60,
        "KmsKeyId": {"Fn::GetAtt": ["EnvKey", "Arn"]},  # the env's key (ingest.enabled)
        "Tags": None,
    }
    bucket = res["ErrorBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "otlp2pipeline-prod-errors-${AWS::AccountId}-${AWS::Region}"}
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 9 and rule["Status"] == "Enabled"
    (deny,) = res["ErrorBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@cache
def _taggable(resource_type: str) -> bool:
    """Whether CloudFormation can tag a resource type, from cfn-lint's shipped resource schemas."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return bool(schema.get("tagging", {}).get("taggable", "Tags" in schema.get("properties", {})))


def test_every_taggable_resource_carries_config_and_env_tags():
    c = cfg.load("prod", {"tags": "{team: otel}"})
    expected = [{"Key": k, "Value": v} for k, v in c.all_tags.items()]
    assert {"Key": "otlp2pipeline-env", "Value": "prod"} in expected
    assert {"Key": "team", "Value": "otel"} in expected
    untagged = []
    for name, res in template.parsed(c)["Resources"].items():
        if _taggable(res["Type"]):
            assert res["Properties"].get("Tags") == expected, name
        else:
            untagged.append(res["Type"])
    assert set(untagged) == {
        "AWS::S3Tables::Namespace",
        "AWS::Logs::LogStream",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Url",
        "AWS::Lambda::Permission",
        "AWS::KMS::Alias",
        "AWS::IAM::ManagedPolicy",  # CloudFormation takes no tags for it
    }


def test_outputs_are_stable_and_complete():
    c = _config("prod", ("logs", "exp_histogram"))
    outputs = template.parsed(c)["Outputs"]
    assert list(outputs) == template.output_keys(c)
    assert set(template.OUTPUT_KEYS) <= set(outputs)
    for key in ("LogsTableName", "LogsLogStreamName", "ExpHistogramTableName", "ExpHistogramLogStreamName"):
        assert key in outputs
    assert "LogsTableArn" not in outputs  # the table is not the stack's
    assert template.output_key("exp_histogram", "TableName") == "ExpHistogramTableName"
    assert outputs["FirehoseRoleArn"]["Value"] == {"Fn::GetAtt": ["FirehoseRole", "Arn"]}
    assert outputs["Namespace"]["Value"] == c.namespace
    assert outputs["Signals"]["Value"] == "logs,exp_histogram"


def test_values_with_yaml_special_characters_stay_data():
    tags = "{note: '- b @x', 'k=v': '@1', 'n': '0x10'}"
    c = cfg.load("prod", {"tags": tags, "firehose.error_output_prefix": "e*r!/"})
    res = template.parsed(c)["Resources"]
    tags = res["TableBucket"]["Properties"]["Tags"]
    assert {"Key": "note", "Value": "- b @x"} in tags  # a sequence indicator, a reserved one, a number
    assert {"Key": "k=v", "Value": "@1"} in tags
    assert {"Key": "n", "Value": "0x10"} in tags
    assert _lint(template.render(c)) == []


def test_render_needs_no_aws_and_uses_pseudo_parameters():
    text = _rendered("prod", ALL_SIGNALS)
    assert ACCOUNT not in text
    assert "${AWS::AccountId}" in text and "${AWS::Region}" in text
    assert "!Sub" not in text and "!Ref" not in text and "!GetAtt" not in text  # long form only


# -- determinism and writing ----------------------------------------------------------------------------


def test_rendering_twice_gives_identical_bytes():
    c = cfg.load("prod")
    assert template.render(c) == template.render(c)
    assert template.render(cfg.load("prod")) == template.render(c)


def test_rendering_is_identical_across_processes(tmp_path):
    """Hash randomisation or dict order must not leak into the output."""
    script = (
        "import sys; from tasks import config, template; "
        "sys.stdout.write(template.render(config.load('prod')))"
    )
    outputs = set()
    for seed in ("1", "2", "random"):
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(proc.stdout)
    assert outputs == {template.render(cfg.load("prod"))}


def test_write_default_path_and_explicit_path(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "BUILD_DIR", tmp_path / "build")
    c = cfg.load("prod")
    path = template.write(c)
    assert path == tmp_path / "build" / "prod" / "template.yaml"
    assert path.read_text() == template.render(c)
    before = path.stat().st_mtime_ns
    assert template.write(c) == path and path.stat().st_mtime_ns == before  # same bytes: not rewritten
    other = template.write(c, tmp_path / "x" / "t.yaml")
    assert other.read_bytes() == path.read_bytes()
    assert [p.name for p in other.parent.iterdir()] == ["t.yaml"]  # no temp file left behind


# -- `doit template` -----------------------------------------------------------------------------------------


def test_doit_template_writes_prints_and_is_up_to_date(tmp_path):
    out = tmp_path / "t.yaml"
    with recording_endpoint() as endpoint:
        url = endpoint.url
        env = no_credentials_env(url)
        first = run_doit(tmp_path, ["env=prod", f"output={out}"], env)
        second = run_doit(tmp_path, ["env=prod", f"output={out}"], env)
        changed = run_doit(tmp_path, ["env=prod", f"output={out}", "signals=logs"], env)
        assert endpoint.connections == []  # no AWS call, not even with an endpoint at hand
    assert first.returncode == 0, first.stderr
    assert str(out) in first.stdout.splitlines()
    # The endpoint is this machine's, so the ingest zip (and the function's runtime) is built for it.
    assert out.read_text() == template.render(cfg.load("prod", {"signals": "logs", "endpoint": url}))
    assert second.returncode == 0 and f"-- template {out}" in second.stdout  # up to date: not re-run
    assert changed.returncode == 0 and f".  template {out}" in changed.stdout  # a config value changed


def test_doit_template_default_path(tmp_path):
    env_name = f"tt{os.getpid() % 100000}"
    target = ROOT / "build" / env_name / "template.yaml"
    try:
        with recording_endpoint() as endpoint:
            url = endpoint.url
            proc = run_doit(tmp_path, [f"env={env_name}"], no_credentials_env(url))
        assert proc.returncode == 0, proc.stderr
        assert str(target) in proc.stdout
        assert target.read_text() == template.render(cfg.load(env_name, {"endpoint": url}))
    finally:
        target.unlink(missing_ok=True)
        if target.parent.exists():
            target.parent.rmdir()
