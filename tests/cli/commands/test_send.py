"""`doit send` (tasks/send.py) and the Firehose transport (lake/firehose.py): batching limits, exact resends,
rows land in the Iceberg tables."""

from __future__ import annotations

import re

import pyarrow.compute as pc
from pyiceberg.table import StaticTable

from lake import firehose
from tasks import send as sender
from tests.deploy_helpers import config, deploy, doit, total_calls

SIGNALS = ("logs", "traces", "sum", "gauge")


def _rows_of_run(emu, signal: str, run_id: str) -> list[str]:
    s3t = emu.client("s3tables")
    arn = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace="default", name=signal)[
        "metadataLocation"
    ]
    table = StaticTable.from_metadata(loc).scan(selected_fields=("service_instance_id",)).to_arrow()
    col = table.column("service_instance_id")
    return table.filter(pc.starts_with(col, f"{run_id}:")).column("service_instance_id").to_pylist()


def test_send_1000_rows_per_signal_land_in_the_tables(emulator, tmp_path):
    deploy(emulator)
    out = doit(emulator, tmp_path, "send", "env=local", "count=1000")
    assert out.returncode == 0, out.stdout + out.stderr
    found = re.search(r"^run_id=(\S+)$", out.stdout, re.M)
    assert found, out.stdout
    run_id = found.group(1)
    for s in SIGNALS:
        assert f"otlp2pipeline-local-{s}: sent 1000, failed 0" in out.stdout
        assert f"{s}: metadata " in out.stdout
    emulator.flush()
    for s in SIGNALS:
        keys = _rows_of_run(emulator, s, run_id)
        assert len(keys) == 1000 and len(set(keys)) == 1000, s


def test_partial_failures_resend_exactly_the_failed_records(emulator):
    deploy(emulator)
    cfg = config(emulator)
    from tasks.aws import Clients

    emulator.set_faults({"put_record_failures": {"fraction": 0.3, "seed": 7}})
    try:
        run_id, results = sender.send(Clients(cfg), cfg, ["logs"], 1200)
    finally:
        emulator.clear_faults()
    res = results[0]
    assert res.sent == 1200 and res.failed == 0
    assert res.resent > 0 and res.calls > 3  # 3 first sends (500+500+200), then resends
    emulator.flush()
    keys = _rows_of_run(emulator, "logs", run_id)
    assert sorted(keys) == sorted(f"{run_id}:{i}" for i in range(1200))  # no loss, no duplicate


def test_records_that_keep_failing_are_reported_and_exit_non_zero(emulator, tmp_path, monkeypatch):
    deploy(emulator)
    emulator.set_faults({"put_record_failures": {"fraction": 1.0, "seed": 1}})
    monkeypatch.setattr(firehose, "MAX_ATTEMPTS", 2)
    try:
        cfg = config(emulator)
        from tasks.aws import Clients

        _, results = sender.send(Clients(cfg), cfg, ["sum"], 20)
    finally:
        emulator.clear_faults()
    assert results[0].failed == 20 and results[0].sent == 0
    assert results[0].errors


def test_unknown_signal_is_one_line_error_without_aws_call(emulator, tmp_path):
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "send", "env=local", "signal=metrics")
    assert out.returncode != 0
    assert "signal='metrics'" in out.stderr
    assert total_calls(emulator) == 0


def test_send_to_an_env_not_deployed_says_to_deploy_first(emulator, tmp_path):
    out = doit(emulator, tmp_path, "send", "env=local", "count=1")
    assert out.returncode == 1, out.stdout + out.stderr
    line = "error: stream otlp2pipeline-local-logs does not exist: run `doit deploy env=local` first"
    assert out.stderr.strip().splitlines()[-1] == line, out.stderr
    assert "Traceback" not in out.stderr
