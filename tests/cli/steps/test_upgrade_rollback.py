"""Upgrades roll back cleanly: the code a rollback sets the function back to is still in the artifacts bucket
a month later, put back when an older bucket's rule expired it, and a rollback that finds it gone (removed
behind the tool's back) ends UPDATE_ROLLBACK_FAILED with advice that, followed, brings the stack back.

A month passes on the local AWS's clock (the `clock` fault), not by waiting. The upgrade is a code change
(a new file among the zip's sources) that fails after the function's update: the template also gains a
resource that depends on the function and fails to create (a namespace in a table bucket that does not
exist), so the function already runs the new code when the rollback starts.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks import package, paths, template
from tasks.errors import StepFailed
from tasks.steps import artifacts_bucket
from tests import deploy_helpers as dh

ACCOUNT = "123456789012"
BUCKET = f"otlp2pipeline-artifacts-{ACCOUNT}-us-east-1"
STACK = "otlp2pipeline-local"
FUNCTION = "otlp2pipeline-local-ingest"
DAY = 86_400
SETTINGS = {"signals": "logs"}
# What the artifacts bucket's one rule was before: every object expired 30 days after upload.
LEGACY_RULE = {
    "ID": artifacts_bucket.RULE_ID,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
}
BREAKS = {
    "Type": "AWS::S3Tables::Namespace",
    "DependsOn": "IngestFunction",
    "Properties": {
        "TableBucketARN": f"arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/does-not-exist",
        "Namespace": "breaks",
    },
}


@pytest.fixture
def upgrade(emulator: Any, ingest_zip: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """Deploys the session's zip, then returns `start(failing)`: from then on deploys build new code (in
    a build directory of the test's own, so a test beside it keeps its zip), and with `failing` their
    template gains the resource that fails after the function's update."""
    dh.deploy(emulator, SETTINGS)
    extra = package.BUILD_DIR / f"test-upgrade-{os.getpid()}.py"
    rendered = template.render

    def start(failing: bool = True) -> None:
        extra.write_text("UPGRADED = True\n")
        original = package.source_files
        monkeypatch.setattr(package, "source_files", lambda: [*original(), extra])
        monkeypatch.setattr(paths, "BUILD_DIR", tmp_path / "build")
        set_failing(failing)

    def set_failing(failing: bool) -> None:
        def render(config: Any) -> str:
            doc = yaml.safe_load(rendered(config))
            doc["Resources"]["UpgradeBreaks"] = BREAKS
            return str(yaml.safe_dump(doc, sort_keys=False))

        monkeypatch.setattr(template, "render", render if failing else rendered)

    start.set_failing = set_failing  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        monkeypatch.undo()
        extra.unlink(missing_ok=True)
        package.ensure(dh.config(emulator))  # the session's zip again, for the tests after this one


def _key(sha: str) -> str:
    return f"ingest/local/{sha}.zip"


def _built(config: Any) -> str:
    """The sha256 of the zip the last deploy built."""
    artifact = package.current(config)
    assert artifact is not None
    return artifact.sha256


def _stack(emulator: Any) -> dict[str, Any]:
    return dict(emulator.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0])


def _params(emulator: Any) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in _stack(emulator)["Parameters"]}


def _serves(emulator: Any, sha: str) -> None:
    """The function runs the zip `sha` and answers OTLP through its URL (200 with the env's token)."""
    fn = emulator.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert base64.b64decode(fn["CodeSha256"]).hex() == sha
    outputs = {o["OutputKey"]: o["OutputValue"] for o in _stack(emulator)["Outputs"]}
    token = emulator.client("secretsmanager").get_secret_value(SecretId=outputs["IngestTokenSecretArn"])
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]})
    req = urllib.request.Request(
        outputs["IngestEndpoint"] + "v1/logs",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token['SecretString']}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    assert status == 200


def _failed_deploy(emulator: Any) -> tuple[str, Any]:
    run = dh.run(emulator, SETTINGS)
    with pytest.raises(StepFailed) as failed:
        run.deploy_sequential()
    return str(failed.value), run


def _month_later(emulator: Any, days: int = 31) -> None:
    emulator.set_faults({"clock": {"offset_seconds": days * DAY}})


@pytest.mark.parametrize("legacy_rule", [False, True], ids=["kept", "restored"])
def test_a_failed_upgrade_a_month_later_rolls_back_to_the_running_code(
    emulator: Any, ingest_zip: Any, upgrade: Any, capsys: pytest.CaptureFixture[str], legacy_rule: bool
) -> None:
    s3 = emulator.client("s3")
    old_key = _key(ingest_zip.sha256)
    if legacy_rule:  # a bucket made by an older deploy: its rule expires every object after 30 days
        s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [LEGACY_RULE]})
    _month_later(emulator)
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix=old_key)
    assert len(listed.get("DeleteMarkers", [])) == (1 if legacy_rule else 0)  # expired by the old rule
    upgrade(failing=True)

    emulator.reset_calls()
    plan = {r.name: r.diff for r in dh.run(emulator, SETTINGS).plan()}
    assert dh.mutating(emulator) == {}
    restore = [c for c in plan["rollback_code"].changes if c.resource.endswith(old_key)]
    assert len(restore) == (1 if legacy_rule else 0)
    assert any("Lifecycle" in c.fields for c in plan["artifacts_bucket"].changes) == legacy_rule

    capsys.readouterr()
    message, _ = _failed_deploy(emulator)
    out = capsys.readouterr().out
    assert "ended UPDATE_ROLLBACK_COMPLETE: resource UpgradeBreaks" in message, message
    assert "restored s3://" in out if legacy_rule else "restored s3://" not in out
    stack = _stack(emulator)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _params(emulator) == {"IngestCodeKey": old_key}
    _serves(emulator, ingest_zip.sha256)  # the function was on the new code when the rollback began
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert not [r for r in rules if artifacts_bucket.expires_code(r)] and len(rules) == 2

    # Another month: the rolled-back code is still there, and the upgrade without the failure goes through.
    _month_later(emulator, 62)
    upgrade.set_failing(False)
    done = dh.deploy(emulator, SETTINGS)
    assert _stack(emulator)["StackStatus"] == "UPDATE_COMPLETE"
    _serves(emulator, _built(done.config))
    emulator.reset_calls()
    dh.deploy(emulator, SETTINGS)
    assert dh.mutating(emulator) == {}


def _remove_every_version(key: str) -> None:
    """Behind the tool's back: every version of the key, straight from the local AWS's S3 state."""
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    for version in list(backend.get_bucket(BUCKET).keys.getlist(key, [])):
        backend.delete_object(BUCKET, key, version_id=str(version.version_id))


def _rollback_failed(
    emulator: Any, ingest_zip: Any, upgrade: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, bytes]:
    """A failing upgrade whose previous code key disappears after deploy checked it, before the update.
    Returns the advised command without its skip, and the old zip (a user would rebuild it)."""
    from emulator.cloudformation.engine import Engine

    old_key = _key(ingest_zip.sha256)
    old_zip = emulator.client("s3").get_object(Bucket=BUCKET, Key=old_key)["Body"].read()
    upgrade(failing=True)
    original = Engine.update

    def update_without_the_old_code(self: Any, *args: Any) -> None:
        _remove_every_version(old_key)
        original(self, *args)

    monkeypatch.setattr(Engine, "update", update_without_the_old_code)
    message, _ = _failed_deploy(emulator)
    monkeypatch.setattr(Engine, "update", original)
    assert _stack(emulator)["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert "ended UPDATE_ROLLBACK_FAILED" in message, message
    assert "CloudFormation could not roll back IngestFunction (AWS::Lambda::Function)" in message
    assert "NoSuchKey" in message
    assert "destroy" not in message
    base = f"aws cloudformation continue-update-rollback --stack-name {STACK} --region us-east-1"
    base += f" --endpoint-url {emulator.endpoint}"
    assert f"`{base}`" in message and f"`{base} --resources-to-skip IngestFunction`" in message

    # Deploy again: the same advice, and nothing written (no update is possible in this state).
    emulator.reset_calls()
    again, _ = _failed_deploy(emulator)
    assert f"`{base} --resources-to-skip IngestFunction`" in again and "destroy" not in again
    assert dh.mutating(emulator) == {}
    return base, old_zip


def _aws(emulator: Any, command: str) -> subprocess.CompletedProcess[str]:
    """The advised command as a user would paste it (the AWS CLI next to this interpreter)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL", None)
    args = shlex.split(command)
    args[0] = str(Path(sys.executable).parent / "aws")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_a_rollback_without_its_code_fails_and_continues_once_the_zip_is_back(
    emulator: Any, ingest_zip: Any, upgrade: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, old_zip = _rollback_failed(emulator, ingest_zip, upgrade, monkeypatch)
    _serves(emulator, _built(dh.config(emulator, SETTINGS)))  # still the new code
    # The fix the advice names: the zip back at its key (as the deterministic build of the code that
    # deployed it gives it), then continue the rollback.
    emulator.client("s3").put_object(Bucket=BUCKET, Key=_key(ingest_zip.sha256), Body=old_zip)
    done = _aws(emulator, base)
    assert done.returncode == 0, done.stderr
    assert _stack(emulator)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    _serves(emulator, ingest_zip.sha256)
    upgrade.set_failing(False)
    dh.deploy(emulator, SETTINGS)
    assert _stack(emulator)["StackStatus"] == "UPDATE_COMPLETE"


def test_a_rollback_without_its_code_skips_the_function_and_the_next_deploy_says_why_it_goes_on(
    emulator: Any,
    ingest_zip: Any,
    upgrade: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, _ = _rollback_failed(emulator, ingest_zip, upgrade, monkeypatch)
    stuck = _aws(emulator, base)  # nothing fixed: the rollback fails again, the same way
    assert stuck.returncode == 0, stuck.stderr
    assert _stack(emulator)["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    skipped = _aws(emulator, f"{base} --resources-to-skip IngestFunction")
    assert skipped.returncode == 0, skipped.stderr
    assert _stack(emulator)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    # The stack records the old key, which is gone for good: deploy says so before it updates, and updates.
    upgrade.set_failing(False)
    capsys.readouterr()
    done = dh.deploy(emulator, SETTINGS)
    out = capsys.readouterr().out
    assert f"note: the deployed code s3://{BUCKET}/{_key(ingest_zip.sha256)} is gone" in out, out
    assert _stack(emulator)["StackStatus"] == "UPDATE_COMPLETE"
    _serves(emulator, _built(done.config))
