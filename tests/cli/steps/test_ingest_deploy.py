"""The deploy steps of the ingest function (artifacts bucket, zip upload, the stack's function).

A converged deploy reads the zip's key once (HeadObject) and writes nothing; after a code change, plan names
the upload and the function's code update without a write, deploy makes exactly those two and retires the
old key once the update completed, and the next deploy writes nothing again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench import budgets
from tasks import package
from tasks.config import CONFIG_DIR_VAR, ROOT
from tasks.runner import plan_text
from tasks.steps import artifacts_bucket
from tests import deploy_helpers as dh
from tests.cli import verify_helpers as vh

ACCOUNT = "123456789012"
BUCKET = f"otlp2pipeline-artifacts-{ACCOUNT}-us-east-1"


def _writes(emu: Any) -> dict[str, int]:
    return dh.mutating(emu)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_artifacts_bucket_is_private_encrypted_tls_only_versioned_and_never_expires_current_code(
    emulator: Any, ingest_zip: Any
) -> None:
    dh.deploy(emulator, {"signals": "logs"})
    s3 = emulator.client("s3")
    pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert pab == artifacts_bucket.PUBLIC_BLOCK
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    [tls] = [s for s in policy["Statement"] if s["Sid"] == artifacts_bucket.TLS_SID]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The error bucket's S3 server access logs: only the logging service, only from that bucket and account.
    [logs] = [s for s in policy["Statement"] if s["Sid"] == artifacts_bucket.logs_sid("local")]
    assert logs["Principal"] == {"Service": "logging.s3.amazonaws.com"} and logs["Action"] == "s3:PutObject"
    assert logs["Resource"] == f"arn:aws:s3:::{BUCKET}/access-logs/local/*"
    assert logs["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::otlp2pipeline-local-errors-{ACCOUNT}-us-east-1"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    logging = s3.get_bucket_logging(Bucket=f"otlp2pipeline-local-errors-{ACCOUNT}-us-east-1")[
        "LoggingEnabled"
    ]
    assert logging == {"TargetBucket": BUCKET, "TargetPrefix": "access-logs/local/"}
    # No rule expires a current zip (a rollback may read it again); the access logs expire after 30 days.
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    code, logs_rule = rules[artifacts_bucket.RULE_ID], rules[artifacts_bucket.LOGS_RULE_ID]
    assert code["Filter"] == {"Prefix": "ingest/"} and code["Expiration"] == {
        "ExpiredObjectDeleteMarker": True
    }
    assert code["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert logs_rule["Filter"] == {"Prefix": "access-logs/"} and logs_rule["Expiration"] == {"Days": 30}
    assert not [r for r in rules.values() if artifacts_bucket.expires_code(r)]
    key = f"ingest/local/{ingest_zip.sha256}.zip"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == ingest_zip.sha256


def test_converged_deploy_writes_nothing_and_reads_the_zip_once(
    emulator: Any, ingest_zip: Any, tmp_path: Any
) -> None:
    first = dh.deploy(emulator)
    assert {r.name: r.outcome.result for r in first.results.values() if r.outcome}["ingest_code"] == "created"
    stack = emulator.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["IngestEndpoint"].endswith("/") and outputs["IngestAuth"] == "token"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params == {"IngestCodeKey": f"ingest/local/{ingest_zip.sha256}.zip"}
    fn = emulator.client("lambda").get_function(FunctionName=outputs["IngestFunctionName"])["Configuration"]
    assert base64.b64decode(fn["CodeSha256"]).hex() == ingest_zip.sha256
    env = fn["Environment"]["Variables"]
    assert {k for k in env if k.startswith("OTLP_STREAM_")} == {
        "OTLP_STREAM_LOGS", "OTLP_STREAM_TRACES", "OTLP_STREAM_SUM", "OTLP_STREAM_GAUGE"
    }  # fmt: skip
    emulator.reset_calls()
    second = dh.deploy(emulator)
    assert _writes(emulator) == {}
    assert emulator.call_count("s3", "HeadObject") == 1  # the zip's key: the artifacts bucket reads no more
    assert not [c for c in emulator.calls() if c["service"] == "s3" and c["operation"] != "HeadObject"]
    assert dh.total_calls(emulator) <= budgets.NOOP_LIMIT  # the no-op budget without ingest, plus that read
    assert second.counter.writes == 0
    # `doit status` as a user runs it, freshness reads included, within its budget and writing nothing.
    emulator.reset_calls()
    status = dh.doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode in (0, 1), status.stdout + status.stderr  # 1: no data yet is a finding
    assert _writes(emulator) == {}
    assert dh.total_calls(emulator) <= budgets.STATUS_LIMIT, emulator.calls()
    # The URL serves the env: with the secret's token the rows are handed on, without it 401.
    token = emulator.client("secretsmanager").get_secret_value(SecretId=outputs["IngestTokenSecretArn"])
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]})
    url = outputs["IngestEndpoint"] + "v1/logs"
    headers = {"Content-Type": "application/json"}
    assert _post(url, body.encode(), headers) == 401
    auth = {**headers, "Authorization": f"Bearer {token['SecretString']}"}
    assert _post(url, body.encode(), auth) == 200


def test_code_change_is_the_upload_and_the_function_update(
    emulator: Any, ingest_zip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dh.deploy(emulator, {"signals": "logs"})
    # A change in the zip's sources (a new file among them): a new sha256, so a new key.
    extra = package.BUILD_DIR / f"test-code-change-{os.getpid()}.py"
    extra.write_text("CHANGED = True\n")
    original = package.source_files
    monkeypatch.setattr(package, "source_files", lambda: [*original(), extra])
    try:
        # plan first (what `doit plan` prints): the upload and the function's code update, no write.
        emulator.reset_calls()
        planned = dh.run(emulator, {"signals": "logs"})
        results = planned.plan()
        assert _writes(emulator) == {}
        new = package.current(planned.config)
        assert new is not None and new.sha256 != ingest_zip.sha256
        old_key, new_key = f"ingest/local/{ingest_zip.sha256}.zip", f"ingest/local/{new.sha256}.zip"
        changes = {r.name: r.diff.changes for r in results if r.diff is not None and r.diff.changes}
        assert set(changes) == {"ingest_code", "stack"}, changes
        [upload] = changes["ingest_code"]
        assert upload.action == "create" and upload.resource == f"s3 object s3://{BUCKET}/{new_key}"
        [update] = changes["stack"]
        assert update.action == "update" and set(update.fields) == {"Parameters"}
        text = plan_text(planned.config, results)
        update_text = "the ingest function's code update"
        line = f"Parameters: IngestCodeKey {old_key} -> IngestCodeKey {new_key}: {update_text}"
        assert line in text, text
        emulator.reset_calls()
        changed = dh.deploy(emulator, {"signals": "logs"})
        assert package.current(changed.config) == new
        # The upload, the change set, and the old key retired once the update completed.
        assert _writes(emulator) == {
            "s3:PutObject": 1,
            "cloudformation:CreateChangeSet": 1,
            "cloudformation:ExecuteChangeSet": 1,
            "s3:DeleteObject": 1,
        }
        s3 = emulator.client("s3")
        versions = s3.list_object_versions(Bucket=BUCKET, Prefix=old_key)
        assert [v["IsLatest"] for v in versions["Versions"]] == [False]  # restorable for 30 days
        assert [m["IsLatest"] for m in versions["DeleteMarkers"]] == [True]
        events = emulator.client("cloudformation").describe_stack_events(StackName="otlp2pipeline-local")
        updated = {
            e["LogicalResourceId"]
            for e in events["StackEvents"]
            if e["ResourceStatus"] == "UPDATE_COMPLETE" and e["ResourceType"] != "AWS::CloudFormation::Stack"
        }
        assert updated == {"IngestFunction"}
        fn = emulator.client("lambda").get_function(FunctionName="otlp2pipeline-local-ingest")[
            "Configuration"
        ]
        assert base64.b64decode(fn["CodeSha256"]).hex() == hashlib.sha256(new.path.read_bytes()).hexdigest()
        emulator.reset_calls()
        dh.deploy(emulator, {"signals": "logs"})
        assert _writes(emulator) == {}
    finally:
        monkeypatch.undo()
        extra.unlink(missing_ok=True)
        package.ensure(dh.config(emulator))  # the session's zip again, for the tests after this one


def test_ingest_disabled_deploys_no_function_url_or_secret_and_each_command_says_so(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest.enabled: false` in the env file: deploy makes no function, URL, secret, artifacts bucket or
    zip; status and connect say ingest is disabled; verify passes and reports the Function URL's checks as
    skipped for that reason (not passed, not silently gone)."""
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir, ignore=shutil.ignore_patterns("schemas"))
    env_file = config_dir / "envs" / "local.yaml"
    env_file.write_text(env_file.read_text() + "signals: [logs]\ningest:\n  enabled: false\n")
    monkeypatch.setenv(CONFIG_DIR_VAR, str(config_dir))  # the in-process deploy and every CLI below

    r = dh.deploy(emulator)
    assert not r.config.ingest.function.enabled
    assert "ingest_code" not in r.steps and "artifacts_bucket" not in r.steps
    assert emulator.call_count("s3", "HeadObject") == 0
    resources = emulator.client("cloudformation").list_stack_resources(StackName="otlp2pipeline-local")
    assert not [s for s in resources["StackResourceSummaries"] if s["LogicalResourceId"].startswith("Ingest")]
    stack = emulator.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    assert not [o for o in stack.get("Outputs", []) if o["OutputKey"].startswith("Ingest")]
    assert emulator.client("lambda").list_functions()["Functions"] == []  # no function, so no URL either
    assert emulator.client("secretsmanager").list_secrets()["SecretList"] == []
    assert BUCKET not in {b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]}

    status = dh.doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "function: none (ingest.enabled is false)" in status.stdout, status.stdout
    connect = dh.doit(emulator, tmp_path, "connect", "env=local")
    assert connect.returncode == 2, connect.stdout + connect.stderr
    assert "Traceback" not in connect.stderr, connect.stderr
    assert [x for x in connect.stderr.splitlines() if x.strip()] == [
        "error: ingest.enabled is false for env local: there is no endpoint to connect to "
        "(set ingest.enabled: true and deploy)"
    ]
    proc, _ = vh.run_verify(emulator)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()
    assert "failed" not in proc.stdout and " passed" in summary[-1] and " skipped" in summary[-1], proc.stdout
    reason = "ingest disabled: ingest.enabled is false for env local, so the stack has no Function URL"
    assert f"{reason}: its checks were skipped" in proc.stdout, proc.stdout
