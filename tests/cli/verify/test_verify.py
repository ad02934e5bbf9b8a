"""verify/: its command line, and the suite itself against a fresh local deploy and a broken one (its helpers
on their own: tests/unit/verify/test_delivery.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tasks import config as config_mod
from tasks import send as sender
from tasks.aws import Clients
from tasks.doctor import ENTRY_FIREHOSE_GRANTS, logged_errors
from tasks.polling import backoff_delays, poll_until
from tasks.records import make_records, new_run_id
from tasks.runner import Run
from tests.cli import verify_helpers as vh
from verify import delivery

ROOT = vh.ROOT


# -- the command line ---------------------------------------------------------------------------------


def test_verify_options_exist_only_when_verify_is_on_the_command_line():
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    prod = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "verify/",
            "--env",
            "prod",
            "--delivery-margin",
            "5",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prod.returncode == 0, prod.stdout + prod.stderr
    assert "test_records_sent_now_are_delivered_without_errors[logs]" in prod.stdout
    bare = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_packaging.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bare.returncode == 0 and "verify/" not in bare.stdout, bare.stdout + bare.stderr


def test_verify_refuses_a_bad_env_in_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "verify/", "--env", "Bad_Env", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "env name 'bad_env'" in proc.stderr.lower() or "env name 'Bad_Env'" in proc.stderr, proc.stderr


# -- the suite against the emulator -------------------------------------------------------------------


def test_verify_passes_on_a_fresh_local_deploy(emulator):
    vh.deploy(emulator)
    proc, elapsed = vh.run_verify(emulator)
    print(f"pytest verify/ --env local: {elapsed:.1f} s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout, proc.stdout


def test_verify_fails_naming_a_revoked_grant_and_passes_after_deploy(emulator):
    cfg = vh.deploy(emulator)
    role = vh.revoke_table_grant(emulator, cfg, "logs")
    proc, _ = vh.run_verify(emulator, "-k", "grants or delivery")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    table = f"{vh.ACCOUNT}:s3tablescatalog/{cfg.table_bucket_name}/default.logs"
    assert f"grant missing: ALL on table {table} to {role}" in proc.stdout, proc.stdout
    assert "test_firehose_role_has_all_on_the_table[logs]" in proc.stdout
    # The delivery test names what it saw: the error objects' code and the troubleshooting entry.
    assert "FailedRowCount=5 (this send)" in proc.stdout, proc.stdout
    code = "Iceberg.InsufficientLakeFormationPermissions"
    assert f"errorCode {code} -> troubleshooting: {ENTRY_FIREHOSE_GRANTS}" in proc.stdout, proc.stdout
    vh.deploy(emulator)
    proc, _ = vh.run_verify(emulator, "-k", "grants or delivery")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_delivery_failure_inside_the_retry_window_names_the_logged_cause(emulator):
    """With a retry window (AWS's default is 300 s) nothing reaches the error bucket before verify's deadline;
    the failure message still names the cause, from the attempts Firehose logged in CloudWatch Logs."""
    cfg = config_mod.load("local", {"endpoint": emulator.endpoint, "firehose.retry_duration_seconds": "120"})
    assert not [r for r in Run(cfg).deploy_sequential() if r.error]
    vh.revoke_table_grant(emulator, cfg, "logs")
    clients = Clients(cfg)
    run_id = new_run_id()
    since = datetime.now(UTC) - timedelta(seconds=1)

    def send(recs):
        sent = sender.send(clients, cfg, ["logs"], len(recs), run_id)[1][0].sent
        # verify reads the logged attempts once its 2 s deadline has passed: wait here for Firehose's first
        # one, so a loaded machine cannot log it after that read (the deadline is a clock, not an event).
        _, logged = poll_until(
            lambda: logged_errors(clients.logs, cfg, "logs", since), bool, backoff_delays(60.0)
        )
        assert logged, "Firehose logged no failed attempt"
        return sent

    error_bucket = cfg.error_bucket_name(clients.account_id)
    result = delivery.check_delivery(
        clients, cfg, "logs", run_id, make_records("logs", run_id, 3), send, error_bucket, 2.0
    )
    assert not result.ok and result.errors == [], result.message
    print(result.message)
    code = "Iceberg.InsufficientLakeFormationPermissions"
    assert f"logged failed attempts in {cfg.log_group_name}/{cfg.log_stream_name('logs')}" in result.message
    entry = re.escape(ENTRY_FIREHOSE_GRANTS)
    cause = rf"errorCode {code} in \d+ attempt\(s\) -> troubleshooting: {entry}"
    assert re.search(cause, result.message), result.message
    assert "it retries for 120 s before writing the error bucket" in result.message, result.message


def test_verify_on_an_env_not_deployed_says_to_deploy_without_raw_aws_errors(emulator):
    proc, _ = vh.run_verify(emulator, "-k", "stack")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "stack otlp2pipeline-local does not exist: run `doit deploy env=local" in proc.stdout, proc.stdout
    assert "table default.logs does not exist in arn:aws:s3tables:" in proc.stdout, proc.stdout
    assert "An error occurred (" not in proc.stdout, proc.stdout  # no raw botocore error reached the report
