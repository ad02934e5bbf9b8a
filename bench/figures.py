"""bench/run.py's send, time-to-verified and emulator figures (each measured in this process or a child)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import ENV, ROOT, SEND_SIGNAL

# -- send -------------------------------------------------------------------------------------------


def prepare_env(work: Path) -> Path:
    """A config dir whose env `bench` is the repo's env `local`; point OTLP2PIPELINE_CONFIG_DIR at it."""
    import shutil

    from tasks.config import config_dir

    src, dst = config_dir(), work / "config"
    (dst / "envs").mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "defaults.yaml", dst / "defaults.yaml")
    shutil.copy(src / "envs" / "local.yaml", dst / "envs" / f"{ENV}.yaml")
    return dst


def local_config(endpoint: str, **overrides: Any) -> Any:
    from tasks.config import load

    return load(ENV, {"endpoint": endpoint, **overrides})


def bench_send(endpoint: str, records: int, signal: str = SEND_SIGNAL) -> dict[str, Any]:
    """`doit send`'s sender, in this process: records/s and PutRecordBatch calls for `records`."""
    from tasks.aws import Clients
    from tasks.send import send

    config = local_config(endpoint)
    clients = Clients(config)
    _ = clients.firehose  # client creation is not part of sending
    t0 = time.monotonic()
    _, results = send(clients, config, [signal], records)
    seconds = time.monotonic() - t0
    res = results[0]
    return {
        "records": records,
        "sent": res.sent,
        "failed": res.failed,
        "calls": res.calls,
        "seconds": round(seconds, 3),
        "records_per_s": round(res.sent / seconds, 1),
    }


def bench_baseline(endpoint: str, records: int, signal: str = SEND_SIGNAL) -> dict[str, Any]:
    """The naive sender: one PutRecord per record, one after the other, same client settings."""
    from tasks.aws import Clients
    from tasks.records import encode, make_records, new_run_id

    config = local_config(endpoint)
    clients = Clients(config)
    fh = clients.firehose
    stream = config.stream_name(signal)
    payloads = [encode(r) for r in make_records(signal, new_run_id(), records)]
    t0 = time.monotonic()
    for data in payloads:
        fh.put_record(DeliveryStreamName=stream, Record={"Data": data})
    seconds = time.monotonic() - t0
    return {
        "records": records,
        "calls": records,
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds, 1),
    }


# -- time to verified -------------------------------------------------------------------------------


def time_to_verified(endpoint: str, per_signal: int | None = None) -> dict[str, Any]:
    """verify/delivery.py's check_delivery for every signal at once (interval-0 buffering, as local is).

    Measured from the first send to the moment the last signal's check passes; each check polls metrics
    and the error bucket and reads the rows back from the Iceberg table, as `pytest verify/` does.
    """
    from tasks import send as sender
    from tasks.aws import Clients
    from tasks.records import RUN_ID_COLUMN, make_records, new_run_id
    from verify.delivery import check_delivery
    from verify.tables import static_table

    if per_signal is None:
        from verify.test_delivery import RECORDS_PER_SIGNAL

        per_signal = RECORDS_PER_SIGNAL
    config = local_config(endpoint, **{"firehose.buffering_interval_seconds": 0})
    clients = Clients(config)
    account = clients.account_id
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in clients.cloudformation.describe_stacks(StackName=config.stack_name)["Stacks"][0]["Outputs"]
    }
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    messages: dict[str, str] = {}
    oks: dict[str, bool] = {}

    def one(signal: str) -> None:
        run_id = new_run_id()
        records = make_records(signal, run_id, per_signal)

        def send(recs: list[dict[str, Any]]) -> int:
            starts[signal] = time.monotonic()
            _, results = sender.send(clients, config, [signal], len(recs), run_id)
            return results[0].sent

        def read_rows() -> list[dict[str, Any]]:
            table = static_table(clients, config, account, signal)
            rows = table.scan(row_filter=f"{RUN_ID_COLUMN} LIKE '{run_id}:%'").to_arrow().to_pylist()
            return list(rows)

        result = check_delivery(
            clients, config, signal, run_id, records, send, outputs["ErrorBucketName"], 60.0, read_rows
        )
        ends[signal] = time.monotonic()
        oks[signal], messages[signal] = result.ok, result.message

    threads = [threading.Thread(target=one, args=(s,)) for s in config.signals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = max(ends.values()) - min(starts.values()) if len(ends) == len(config.signals) else float("nan")
    return {
        "seconds": round(seconds, 3),
        "ok": all(oks.values()) and len(oks) == len(config.signals),
        "records_per_signal": per_signal,
        "per_signal_s": {s: round(ends[s] - starts[s], 3) for s in ends if s in starts},
        "messages": messages,
    }


# -- emulator figures (bench/emulator.py) -----------------------------------------------------------


def parse_emulator_output(out: str) -> dict[str, float]:
    """The figures bench/emulator.py prints: delivery rows/s, start-up seconds, idle RSS."""

    def number(pattern: str) -> float:
        m = re.search(pattern, out)
        return float(m.group(1).replace(",", "")) if m else float("nan")

    return {
        "rows_per_s": number(r"([\d,.]+)\s*rows/s"),
        "startup_s": number(r"start-up[^:]*:\s*([\d.]+)\s*s"),
        "idle_rss_mb": number(r"idle RSS[^:]*:\s*([\d.]+)\s*MB"),
    }


def emulator_figures(records: int) -> dict[str, Any]:
    """Run bench/emulator.py (owned by the Firehose-delivery engineer) and read its printed figures."""
    cmd = [sys.executable, str(ROOT / "bench" / "emulator.py"), "--records", str(records)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    return {
        **parse_emulator_output(proc.stdout),
        "records": records,
        "exit_code": proc.returncode,
        "output": proc.stdout.strip().splitlines(),
    }
