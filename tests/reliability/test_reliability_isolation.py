"""One env's deploy, re-deploy and destroy harm nothing else in the account, and two
deploys of the same env at once end converged, the loser (if any) failing cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from tasks.errors import describe
from tests.deploy_helpers import DOIT, ROOT
from tests.deploy_helpers import doit_cli as doit
from tests.reliability import canon, runs, summary

OTHER_ADMIN = f"arn:aws:iam::{canon.ACCOUNT}:role/AnalyticsAdmin"
OTHER_BUCKET = "analytics-raw-data"
OTHER_STREAM = "otlp2pipeline-local-logs-archive"  # shares our prefix on purpose
OTHER_CATALOG = "analytics"
OUR_ROLE = "role/otlp2pipeline-local-FirehoseRole-"


def _others(emu: Any) -> None:
    """What other people keep in the same account and region."""
    iam = emu.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="AnalyticsAdmin", AssumeRolePolicyDocument=json.dumps(trust))
    lf = emu.client("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    settings["DataLakeAdmins"] = [
        *settings.get("DataLakeAdmins", []),
        {"DataLakePrincipalIdentifier": OTHER_ADMIN},
    ]
    lf.put_data_lake_settings(DataLakeSettings=settings)
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=OTHER_BUCKET)
    s3.put_object(Bucket=OTHER_BUCKET, Key="2026/01/10/part-0.json", Body=b'{"x": 1}\n')
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{OTHER_BUCKET}", RoleArn=OTHER_ADMIN)
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": OTHER_ADMIN},
        Resource={"DataLocation": {"ResourceArn": f"arn:aws:s3:::{OTHER_BUCKET}"}},
        Permissions=["DATA_LOCATION_ACCESS"],
    )
    emu.client("glue").create_catalog(
        Name=OTHER_CATALOG,
        CatalogInput={"Description": "the analytics team's catalog", "Parameters": {"team": "analytics"}},
    )
    emu.client("firehose").create_delivery_stream(
        DeliveryStreamName=OTHER_STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": OTHER_ADMIN,
            "BucketARN": f"arn:aws:s3:::{OTHER_BUCKET}",
            "Prefix": "archive/",
        },
    )


def _snapshot(emu: Any, other_env: Any) -> dict[str, Any]:
    """Everything that is not the env under test (its own grants excluded from the account view)."""
    account = canon.describe_account(emu)
    account["lf_permissions"] = [
        p for p in account["lf_permissions"] if OUR_ROLE not in p["Principal"]["DataLakePrincipalIdentifier"]
    ]
    return {
        "account": account,
        "other_env": canon.describe_env(emu, other_env),
        "other_stream": canon.scrub(canon._streams(emu, OTHER_STREAM.__eq__)),
        "other_bucket": canon.scrub(canon._bucket(emu, OTHER_BUCKET)),
        "other_admin_role": canon.scrub(canon._role(emu.client("iam"), "AnalyticsAdmin")),
    }


def test_deploy_redeploy_destroy_leave_everything_else_as_it_was(emulator, tmp_path):
    # A second env of ours whose name extends ours (otlp2pipeline-local-b-*), then everyone else's things.
    other_env = canon.config(emulator, env="local-b")
    assert runs.deploy(other_env).code == 0
    _others(emulator)
    before = _snapshot(emulator, other_env)
    assert before["other_env"]["stack"] and before["other_env"]["streams"]
    assert OTHER_ADMIN in json.dumps(before["account"]["data_lake_settings"])

    checked = []
    for label, args in (
        ("deploy", ("deploy", "env=local")),
        ("re-deploy", ("deploy", "env=local")),
        ("destroy", ("destroy", "env=local", "force=1")),
    ):
        out = doit(emulator, tmp_path, *args)
        assert out.returncode == 0, out.stdout + out.stderr
        diff = canon.first_difference(before, _snapshot(emulator, other_env))
        assert not diff, f"{label} of env local changed something else: {diff}"
        checked.append(label)
    assert canon.leftovers(emulator, canon.config(emulator)) == {}
    summary.record(
        "collateral",
        f"none after {', '.join(checked)} of env local (checked: env local-b, another data lake admin, "
        "an S3 registration with its grant, another Glue catalog, a Firehose stream sharing our prefix, "
        "an S3 bucket)",
    )


def _deploy_proc(emu: Any, tmp_path: Any, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": emu.endpoint, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*DOIT, "--db-file", str(tmp_path / f"{name}.json"), "deploy", "env=local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_deploys_of_one_env_at_once_end_converged(emulator, tmp_path):
    cfg = canon.config(emulator)
    # Slow stacks keep the two runs overlapping whatever the machine's speed.
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 1.0}})
    procs = [_deploy_proc(emulator, tmp_path, n) for n in ("a", "b")]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    emulator.clear_faults()
    codes = sorted(r[0] for r in results)
    failed = [r for r in results if r[0] != 0]
    for _, _, err in failed:
        assert "Traceback" not in err, err
    messages = [line for _, _, err in failed for line in err.splitlines() if line.strip()]

    status = runs.status_doc(cfg)
    assert status["healthy"], (runs.drifting(status), messages)
    emulator.reset_calls()
    again = runs.deploy(cfg)
    assert again.code == 0 and runs.mutating(emulator) == {}, again.message
    summary.record(
        "concurrency",
        f"exit codes {codes}; "
        + (f"the second said: {messages[0]}" if messages else "both converged")
        + "; env converged",
    )
    assert codes in ([0, 0], [0, 1]), (codes, messages)
    if failed:  # the loser stopped at the lock, before any AWS call, and said who holds it
        assert messages and messages[0].startswith("error: env local is locked"), messages
        assert "deploy:lf_role" not in "".join(messages) and "deploy:stack" not in "".join(messages)


def test_the_env_lock_names_its_holder_and_frees_itself_when_the_holder_dies(tmp_path, monkeypatch):
    from tasks import config as config_mod
    from tasks import lock, paths

    monkeypatch.setattr(paths, "BUILD_DIR", tmp_path)
    cfg = config_mod.load("local")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib, tasks.config as c, tasks.lock as l, tasks.paths as p; "
            "p.BUILD_DIR = pathlib.Path(sys.argv[1]); "
            "l.hold(c.load('local'), 'deploy', '123456789012'); print('held', flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(lock.EnvLocked) as caught:
            lock.hold(cfg, "deploy", canon.ACCOUNT)
        assert f"pid {holder.pid}" in str(caught.value) and "`doit deploy env=local`" in str(caught.value)
        assert describe(caught.value)[1] == 1
    finally:
        holder.kill()  # no clean release: the OS frees the lock
        holder.wait(timeout=30)
    path = lock.hold(cfg, "destroy", canon.ACCOUNT)
    assert path.parent == tmp_path / "local"
    assert lock.hold(cfg, "deploy", canon.ACCOUNT) == path  # re-entrant in one process
    # the same env name aimed at another account (or another emulator) is another lock
    assert lock.hold(cfg, "deploy", "210987654321") != path
    lock.release(cfg, canon.ACCOUNT)
    lock.release(cfg, "210987654321")


def test_two_machines_racing_without_a_shared_lock_converge_on_a_rerun(emulator):
    """What the file lock cannot cover: two machines deploying one env at once. Simulated by two in-process
    deploys on threads (no lock between them). AWS's own conflict answers make a loser fail cleanly, naming
    its step and the error; one more deploy then reaches exactly the clean state."""
    cfg = canon.config(emulator)
    first = runs.deploy(cfg)
    assert first.code == 0, first.message
    reference = canon.describe_all(emulator, cfg)
    emulator.reset()
    got: list[runs.Attempt] = []

    def one() -> None:
        got.append(runs.deploy(cfg, capture=False))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(got) == 2
    for attempt in got:
        if attempt.code:
            assert attempt.message.startswith("deploy:") and " failed: error: " in attempt.message, attempt
            assert "Traceback" not in attempt.message
    outcome = sorted(a.message.split(":", 2)[1].split(" ")[0] if a.code else "ok" for a in got)
    rerun = runs.deploy(cfg)
    assert rerun.code == 0, rerun.message
    diff = canon.first_difference(reference, canon.describe_all(emulator, cfg))
    assert not diff, diff
    emulator.reset_calls()
    assert runs.deploy(cfg).code == 0 and runs.mutating(emulator) == {}
    summary.record("unlocked_race", f"outcome {outcome} (ok, or the step that lost); one re-run converged")
