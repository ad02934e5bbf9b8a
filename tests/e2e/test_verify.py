"""verify/: its helpers (polling, metrics window, error objects, row comparison), its command line, and the
suite itself against a fresh local deploy and a broken one."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tasks import config as config_mod
from tasks import send as sender
from tasks.aws import Clients
from tasks.doctor import ENTRY_FIREHOSE_GRANTS, ENTRY_RECORD_SHAPE, logged_errors
from tasks.polling import backoff_delays, poll_until
from tasks.records import make_record, make_records, new_run_id
from tasks.runner import Run
from tests.e2e import verify_helpers as vh
from verify import delivery

ROOT = vh.ROOT


# -- polling -----------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_poll_backs_off_until_done():
    clock = FakeClock()
    values = iter(range(100))
    value, done = delivery.poll(lambda: next(values), lambda v: v >= 4, 100.0, clock=clock, sleep=clock.sleep)
    assert (value, done) == (4, True)
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.8]


def test_poll_stops_at_the_deadline_and_reads_once_more():
    clock = FakeClock()
    reads: list[float] = []

    def read() -> int:
        reads.append(clock.now)
        return 0

    _, done = delivery.poll(read, lambda v: v > 0, 10.0, max_delay=2.0, clock=clock, sleep=clock.sleep)
    assert not done
    assert clock.sleeps[:7] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])  # capped
    assert reads[-1] == pytest.approx(10.0)  # the last read is at the deadline, not before
    assert clock.now == pytest.approx(10.0)


def test_poll_reads_at_least_once_after_the_deadline():
    clock = FakeClock()
    clock.now = 10.0
    value, done = delivery.poll(lambda: 7, lambda v: v == 7, 5.0, clock=clock, sleep=clock.sleep)
    assert (value, done) == (7, True)
    assert clock.sleeps == []


def test_metric_window_covers_the_send_and_the_wait_in_whole_periods():
    sent = datetime(2026, 1, 10, 12, 0, 59, 500000, tzinfo=UTC)
    start, end = delivery.metric_window(sent, 120.0)
    assert start == datetime(2026, 1, 10, 11, 59, tzinfo=UTC)
    assert end == datetime(2026, 1, 10, 12, 4, tzinfo=UTC)
    assert start <= sent and end > sent + timedelta(seconds=120)


class FakeCloudWatch:
    def __init__(self, points: dict[str, list[float]]) -> None:
        self.points = points
        self.requests: list[dict] = []

    def get_metric_statistics(self, **kw):
        self.requests.append(kw)
        ts = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
        return {"Datapoints": [{"Timestamp": ts, "Sum": v} for v in self.points.get(kw["MetricName"], [])]}


def test_read_metrics_sums_datapoints_of_both_metrics():
    cw = FakeCloudWatch({delivery.SUCCESS_METRIC: [3, 2], delivery.FAILED_METRIC: [1]})
    m = delivery.read_metrics(cw, "s", delivery.metric_window(datetime.now(UTC), 60))
    assert (m.successful, m.failed) == (5, 1)
    assert (m.minus(delivery.Metrics(2, 1)).successful, m.minus(delivery.Metrics(2, 1)).failed) == (3, 0)
    assert {r["Period"] for r in cw.requests} == {60}
    assert {tuple(r["Statistics"]) for r in cw.requests} == {("Sum",)}
    assert "SuccessfulRowCount=5" in m.describe() and "FailedRowCount=1" in m.describe()


# -- error objects -----------------------------------------------------------------------------------


class FakeS3:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket, Key):
        import io

        return {"Body": io.BytesIO(self.objects[Key])}


def _error_line(code: str, raw: bytes) -> str:
    return json.dumps({"errorCode": code, "errorMessage": "x", "rawData": base64.b64encode(raw).decode()})


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_error_objects_are_read_with_their_codes_and_run_records(compress):
    body = "\n".join(
        [
            _error_line("Iceberg.MissingColumnWithinRecord", b'{"service_instance_id":"run-1:0"}'),
            _error_line("Iceberg.MissingColumnWithinRecord", b'{"service_instance_id":"run-2:0"}'),
            _error_line("Iceberg.InsufficientLakeFormationPermissions", b'{"service_instance_id":"run-1:1"}'),
        ]
    ).encode()
    s3 = FakeS3({"k": gzip.compress(body) if compress else body})
    obj = delivery.read_error_object(s3, "b", "k", "run-1")
    assert obj.codes == {
        "Iceberg.MissingColumnWithinRecord": 2,
        "Iceberg.InsufficientLakeFormationPermissions": 1,
    }
    assert obj.run_records == 2
    text = delivery.describe_errors([obj])
    assert "errorCode Iceberg.MissingColumnWithinRecord" in text and ENTRY_RECORD_SHAPE in text
    assert ENTRY_FIREHOSE_GRANTS in text


# -- row comparison ----------------------------------------------------------------------------------


def test_rows_compare_equal_to_the_record_with_timestamps_parsed():
    record = make_record("logs", "run-x", 3)
    row = dict(record)
    # Iceberg timestamp: naive UTC, microseconds; a run id without a start time starts at LEGACY_START.
    row["timestamp"] = datetime(2026, 1, 10, 12, 0, 0, 3)
    expected = delivery.expected_row(record, {"timestamp"})
    assert delivery.row_differences(expected, delivery.normalise_row(row)) == []
    row["severity_text"] = "WARN"
    del row["body"]
    diffs = delivery.row_differences(expected, row)
    assert diffs == ["body: missing", "severity_text: expected 'INFO', got 'WARN'"]


def test_aware_timestamps_are_normalised_to_naive_utc():
    aware = datetime(2026, 1, 10, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert delivery.normalise_row({"t": aware}) == {"t": datetime(2026, 1, 10, 12, 0)}
    assert delivery.parse_timestamp("2026-01-10T12:00:00.250Z") == datetime(2026, 1, 10, 12, 0, 0, 250000)


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
