"""Timestamps are integer epoch microseconds (otlp-tables.md): the tool stamps records with the send time,
and the local AWS refuses any other form, record by record, unless the lenient_timestamps option is on."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pyiceberg.table import StaticTable

from bench.emulator import free_port, wait_healthy
from tasks.doctor import ENTRY_RECORD_SHAPE, troubleshooting_entry
from tasks.records import (
    encode,
    epoch_micros,
    from_micros,
    make_records,
    new_run_id,
    run_started,
    start_micros,
)
from tests.deploy_helpers import ROOT, deploy, doit

STREAM = "otlp2pipeline-local-logs"


def _error_bucket(emu: Any) -> str:
    stack = emu.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "ErrorBucketName")


def _error_lines(emu: Any) -> list[dict[str, Any]]:
    s3 = emu.client("s3")
    bucket = _error_bucket(emu)
    lines = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="errors/logs/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        lines += [json.loads(line) for line in body.splitlines() if line.strip()]
    return lines


def _rows(emu: Any, signal: str, run_id: str) -> dict[str, dict[str, Any]]:
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN="arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local",
        namespace="default",
        name=signal,
    )["metadataLocation"]
    rows = StaticTable.from_metadata(loc).scan().to_arrow().to_pylist()
    return {r["service_instance_id"]: r for r in rows if r["service_instance_id"].startswith(f"{run_id}:")}


def _put_iso_and_micros(emu: Any, run_id: str) -> list[dict[str, Any]]:
    """Three records through boto3: 0 and 2 as the contract says, 1 with an ISO-8601 timestamp."""
    records = make_records("logs", run_id, 3)
    records[1]["timestamp"] = "2026-01-10T12:00:00.250Z"
    resp = emu.client("firehose").put_record_batch(
        DeliveryStreamName=STREAM, Records=[{"Data": encode(r)} for r in records]
    )
    assert resp["FailedPutCount"] == 0
    return records


def test_iso_timestamp_goes_to_the_error_bucket_naming_the_column(emulator):
    deploy(emulator)
    run_id = new_run_id()
    records = _put_iso_and_micros(emulator, run_id)
    assert emulator.flush() == {"delivered": 2, "failed": 1}

    (line,) = _error_lines(emulator)
    assert line["errorCode"] == "Iceberg.InvalidTimestamp"
    assert "timestamp" in line["errorMessage"] and "microseconds" in line["errorMessage"]
    assert json.loads(base64.b64decode(line["rawData"])) == records[1]
    rows = _rows(emulator, "logs", run_id)
    assert sorted(rows) == [f"{run_id}:0", f"{run_id}:2"]
    assert rows[f"{run_id}:2"]["timestamp"] == from_micros(records[2]["timestamp"])


@pytest.mark.parametrize("bad", ["2026-01-10T12:00:00Z", 1.7e15, True, "1768046400000000"])
def test_every_non_integer_timestamp_is_refused(emulator, bad):
    deploy(emulator)
    record = make_records("logs", "run-bad", 1)[0]
    record["timestamp"] = bad
    emulator.client("firehose").put_record(DeliveryStreamName=STREAM, Record={"Data": encode(record)})
    assert emulator.flush() == {"delivered": 0, "failed": 1}
    assert [e["errorCode"] for e in _error_lines(emulator)] == ["Iceberg.InvalidTimestamp"]


def test_lenient_timestamps_option_accepts_iso_and_reset_restores_strictness(emulator):
    assert emulator.set_options({"lenient_timestamps": True}) == {"lenient_timestamps": True}
    deploy(emulator)
    run_id = new_run_id()
    _put_iso_and_micros(emulator, run_id)
    assert emulator.flush() == {"delivered": 3, "failed": 0}
    rows = _rows(emulator, "logs", run_id)
    assert rows[f"{run_id}:1"]["timestamp"] == datetime(2026, 1, 10, 12, 0, 0, 250000)

    for bad in ({"lenient_timestamps": "yes"}, {"no_such_option": True}, ["lenient_timestamps"]):
        resp = requests.post(f"{emulator.endpoint}/_emulator/options", json=bad, timeout=10)
        assert resp.status_code == 400, bad
    emulator.reset()
    resp = requests.get(f"{emulator.endpoint}/_emulator/options", timeout=10)
    assert resp.json() == {"options": {"lenient_timestamps": False}}


def test_python_m_emulator_flag_turns_lenient_timestamps_on(tmp_path):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(tmp_path / "d")]
    proc = subprocess.Popen(
        [*cmd, "--lenient-timestamps"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_healthy(endpoint, proc, time.monotonic() + 60)
        assert requests.get(f"{endpoint}/_emulator/options", timeout=10).json() == {
            "options": {"lenient_timestamps": True}
        }
        requests.post(f"{endpoint}/_emulator/reset", json={}, timeout=30).raise_for_status()
        after_reset = requests.get(f"{endpoint}/_emulator/options", timeout=10).json()
        assert after_reset == {"options": {"lenient_timestamps": True}}  # the flag is the start-up value
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    helped = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "--lenient-timestamps" in helped.stdout


def test_doit_send_rows_carry_the_send_time_to_the_microsecond(emulator, tmp_path):
    deploy(emulator)
    before = epoch_micros(datetime.now(UTC))
    out = doit(emulator, tmp_path, "send", "env=local", "signal=logs", "count=20")
    after = epoch_micros(datetime.now(UTC))
    assert out.returncode == 0, out.stdout + out.stderr
    found = re.search(r"^run_id=(\S+)$", out.stdout, re.M)
    assert found, out.stdout
    run_id = found.group(1)
    started = start_micros(run_id)
    assert run_started(run_id) is not None and before <= started <= after

    emulator.flush()
    rows = _rows(emulator, "logs", run_id)
    assert len(rows) == 20
    for seq in range(20):
        row = rows[f"{run_id}:{seq}"]
        assert row["timestamp"] == from_micros(started + seq)  # exact, microseconds included
        assert row["observed_timestamp"] == (started + seq) // 1000  # epoch milliseconds
    assert {r["timestamp"].date() for r in rows.values()} <= {
        from_micros(before).date(),
        from_micros(after).date(),
    }  # today's partition


def test_records_are_reproducible_from_signal_run_id_and_seq():
    run_id = new_run_id(datetime(2026, 12, 1, 10, 25, 13, 123456, tzinfo=UTC))
    assert run_started(run_id) == datetime(2026, 12, 1, 10, 25, 13, 123456, tzinfo=UTC)
    assert make_records("traces", run_id, 5, start=3) == make_records("traces", run_id, 8)[3:]
    ts = [r["timestamp"] for r in make_records("traces", run_id, 3)]
    assert all(isinstance(t, int) for t in ts)
    assert ts == [epoch_micros(datetime(2026, 12, 1, 10, 25, 13, 123456 + i, tzinfo=UTC)) for i in range(3)]
    assert run_started("run-a") is None  # a hand-made id: stamped from the fixed LEGACY_START


def test_invalid_timestamp_code_names_the_record_contract_entry():
    assert troubleshooting_entry("Iceberg.InvalidTimestamp") == ENTRY_RECORD_SHAPE
