"""Emulator figures: start-up time, idle RSS, and Firehose -> Iceberg rows/s for one PutRecordBatch client.

Runs ``python -m emulator`` as its own process (as `doit` does), sets up one Iceberg-destination stream
as the guide does (role, catalog, table bucket, namespace, table, Lake Formation grants), sends N records in
PutRecordBatch calls of 500 from one boto3 client, flushes, and checks every row is in the Iceberg table.

    .venv/bin/python bench/emulator.py [--records 100000] [--batch 500]

Goals (2-core machine): >= 20,000 rows/s, start-up < 3 s, idle RSS < 300 MB. Prints figures, asserts none.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator import by_hand as eh  # noqa: E402
from emulator.admin.client import AdminClient  # noqa: E402
from emulator.by_hand import ACCOUNT, NAMESPACE, REGION  # noqa: E402
from lake.regions import arn as config_arn  # noqa: E402
from tasks.polling import backoff, poll_until  # noqa: E402
from tasks.records import encode, make_records, new_run_id  # noqa: E402

BUCKET = "bench-tables"
SIGNAL = "logs"
STREAM = "bench-logs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def admin(endpoint: str, method: str, route: str) -> Any:
    return AdminClient(endpoint, timeout=600).request(method, route)


def wait_healthy(endpoint: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    def healthy() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"emulator exited with {proc.returncode} during start-up")
        try:
            admin(endpoint, "GET", "health")
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    if not poll_until(healthy, bool, backoff(deadline, first=0.01, cap=0.1))[1]:
        raise SystemExit("emulator not healthy within 60 s")


def client(endpoint: str, service: str, **kw: Any) -> Any:
    """A boto3 client of the emulator at ``endpoint`` (moto's test credentials)."""
    return boto3.client(  # type: ignore[call-overload]  # a service named at run time
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kw,
    )


def setup(endpoint: str) -> None:
    iam, s3, glue, s3t, lf, fh = (
        client(endpoint, s) for s in ("iam", "s3", "glue", "s3tables", "lakeformation", "firehose")
    )
    role = eh.create_firehose_role(iam, "bench-firehose")
    s3.create_bucket(Bucket="bench-errors")
    eh.create_s3tables_catalog(glue)
    arn = s3t.create_table_bucket(name=BUCKET)["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    eh.create_table(s3t, arn, SIGNAL)
    eh.grant_tables(lf, role, BUCKET, [SIGNAL])
    fh.create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        IcebergDestinationConfiguration=eh.iceberg_destination(
            role,
            BUCKET,
            SIGNAL,
            "bench-errors",
            "errors/",
            size_mb=int(os.environ.get("BENCH_SIZE", "1")),
            interval=int(os.environ.get("BENCH_INTERVAL", "0")),
        ),
    )


def table_rows(endpoint: str) -> int:
    from pyiceberg.table import StaticTable

    s3t = client(endpoint, "s3tables")
    arn = config_arn(REGION, "s3tables", f"bucket/{BUCKET}", ACCOUNT)
    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace=NAMESPACE, name=SIGNAL)[
        "metadataLocation"
    ]
    return int(StaticTable.from_metadata(loc).scan().to_arrow().num_rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                *os.environ.get("BENCH_SERVER_CMD", f"{sys.executable} -m emulator").split(),
                "--port",
                str(port),
                "--data-dir",
                str(Path(tmp) / "data"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(endpoint, proc, started + 60)
            startup = time.monotonic() - started
            idle_rss = rss_mb(proc.pid)

            setup(endpoint)
            records = [encode(r) for r in make_records(SIGNAL, new_run_id(), args.records)]
            fh = client(endpoint, "firehose", config=Config(retries={"mode": "standard", "max_attempts": 10}))
            batches = [
                [{"Data": r} for r in records[i : i + args.batch]] for i in range(0, len(records), args.batch)
            ]
            admin(endpoint, "POST", "flush")  # zero the delivered/failed counters
            t0 = time.monotonic()
            server_cpu0, client_cpu0 = cpu_seconds(proc.pid), time.process_time()
            failed_puts = 0
            for batch in batches:
                failed_puts += fh.put_record_batch(DeliveryStreamName=STREAM, Records=batch)["FailedPutCount"]
            sent = time.monotonic() - t0
            counts = admin(endpoint, "POST", "flush")
            elapsed = time.monotonic() - t0
            server_cpu = cpu_seconds(proc.pid) - server_cpu0
            client_cpu = time.process_time() - client_cpu0
            busy_rss = rss_mb(proc.pid)
            rows = table_rows(endpoint)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(
        f"records sent:              {args.records} in {len(batches)} PutRecordBatch calls "
        f"(failed puts {failed_puts})"
    )
    print(f"send time:                 {sent:.2f} s")
    print(
        f"delivered (flush):         {counts['delivered']} ok, {counts['failed']} failed; "
        f"rows in Iceberg table: {rows}"
    )
    print(f"delivery throughput:       {counts['delivered'] / elapsed:,.0f} rows/s   (goal >= 20,000)")
    print(
        f"CPU used:                  server {server_cpu:.2f} s, client {client_cpu:.2f} s "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(f"start-up (to /health):     {startup:.2f} s   (goal < 3 s)")
    print(f"idle RSS:                  {idle_rss:.0f} MB   (goal < 300 MB)")
    print(f"RSS after the run:         {busy_rss:.0f} MB")
    return 0 if rows == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
