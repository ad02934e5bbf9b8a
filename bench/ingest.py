"""Receiver figures: converter rows/s, end-to-end spans/s against `doit send`, memory per request and under
32 concurrent clients.

    .venv/bin/python bench/ingest.py [--rows 10000] [--spans 20000] [--only memory,concurrency,cost]

- Converter, one core: a protobuf request of N log records (or spans) of about 10 attributes each, in;
  the Firehose record bytes out (decode + map + encode, what the receiver does before sending).
  Goals: >= 50,000 log rows/s, >= 30,000 spans/s.
- End to end: spans from the OpenTelemetry SDK's BatchSpanProcessor through the receiver to rows in
  Iceberg, against `doit send`'s sender (tasks/send.py) into the same emulator in the same run.
  Goal: the receiver's rate is at least 70% of the sender's.
- Memory: the receiver process's peak resident memory (VmHWM) while handling one 6 MiB request, above
  its idle size. Goal: under 3x the request size.
- Concurrency: 32 clients at once, each posting gzip requests of 2 MiB (decompressed) back to back, to a
  fresh receiver process with its default limits. Goals: 0 connection resets (a client past the limit
  gets 503 with Retry-After), and peak resident memory above idle under 3x (the largest request in flight
  x the concurrency limit). These two: bench/ingest_memory.py.
- Cost: bench/ingest_cost.py (bytes per row against the OTLP bytes, dollars per million rows per signal).

It starts its own emulator (free port, throw-away data dir), writes each figure into bench/results.json
under "ingest" -> its name (other keys and figures are kept) and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import emulator_process  # noqa: E402
from bench.otlp_requests import logs_request, spans_request  # noqa: E402
from bench.results import machine, merge_under  # noqa: E402
from emulator.admin.client import AdminClient  # noqa: E402
from tasks.polling import backoff, poll_until  # noqa: E402


def bench_converter(rows: int, repeats: int = 3) -> dict[str, Any]:
    from ingest import decode
    from ingest.mapping import MAPPERS, Received

    out: dict[str, Any] = {}
    media = decode.media_type(decode.PROTOBUF)
    assert media is not None
    rx = Received(time.time_ns() // 1000, time.time_ns() // 1_000_000)
    for path, body in (("/v1/logs", logs_request(rows)), ("/v1/traces", spans_request(rows))):
        best = float("inf")
        produced = 0
        for _ in range(repeats):
            t0 = time.process_time()
            request = decode.parse(path, media, body)
            result = MAPPERS[path](request, ("logs", "traces"), rx)
            best = min(best, time.process_time() - t0)
            produced = result.count
        out[path.rsplit("/", 1)[1]] = {
            "rows": produced,
            "request_bytes": len(body),
            "cpu_seconds": round(best, 4),
            "rows_per_s": round(produced / best),
        }
    out["goal"] = "logs >= 50,000 rows/s, spans >= 30,000 rows/s"
    return out


def _count_rows(emu_endpoint: str, config: Any, signal: str, instance_prefix: str) -> int:
    import boto3
    import pyarrow.compute as pc
    from pyiceberg.table import StaticTable

    AdminClient(emu_endpoint, timeout=600).flush()
    s3t = boto3.client(
        "s3tables",
        endpoint_url=emu_endpoint,
        region_name=config.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn = config.table_bucket_arn("123456789012")
    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace=config.namespace, name=signal)
    table = StaticTable.from_metadata(loc["metadataLocation"]).scan(selected_fields=("service_instance_id",))
    col = table.to_arrow().column("service_instance_id")
    return int(pc.sum(pc.starts_with(col, instance_prefix)).as_py() or 0)


def _wait_rows(emu_endpoint: str, config: Any, signal: str, prefix: str, n: int, deadline_s: float) -> float:
    delays = backoff(time.monotonic() + deadline_s, first=0.05, cap=0.5)
    if not poll_until(lambda: _count_rows(emu_endpoint, config, signal, prefix), lambda c: c >= n, delays)[1]:
        raise RuntimeError(f"{signal}: {n} rows of {prefix} not delivered within {deadline_s}s")
    return time.monotonic()


def deploy_local(emu_endpoint: str) -> Any:
    """Env local (logs and traces) deployed on the bench's emulator; its config."""
    from tasks.config import load
    from tasks.runner import Run

    config = load("local", {"endpoint": emu_endpoint, "signals": "logs,traces"})
    failed = [r for r in Run(config).deploy_sequential() if r.error]
    assert not failed, failed
    return config


def bench_end_to_end(emu_endpoint: str, spans: int) -> dict[str, Any]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from ingest.server import ReceiverServer
    from tasks.aws import Clients
    from tasks.receiver import build
    from tasks.records import new_run_id
    from tasks.send import send

    config = deploy_local(emu_endpoint)
    clients = Clients(config)
    _ = clients.firehose

    run_id = new_run_id()
    t0 = time.monotonic()
    send(clients, config, ["traces"], spans, run_id)
    send_s = _wait_rows(emu_endpoint, config, "traces", f"{run_id}:", spans, 600) - t0

    receiver, delivery = build(config)
    with open(os.devnull, "w") as devnull:
        server = ReceiverServer(receiver, "127.0.0.1", 0, devnull).start()
        try:
            instance = new_run_id()
            provider = TracerProvider(
                resource=Resource.create({"service.name": "bench", "service.instance.id": instance})
            )
            provider.add_span_processor(
                BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=f"{server.endpoint}/v1/traces", timeout=60),
                    max_queue_size=spans,
                    max_export_batch_size=512,
                    schedule_delay_millis=100,
                )
            )
            tracer = provider.get_tracer("bench")
            t1 = time.monotonic()
            for i in range(spans):
                tracer.start_span(f"span-{i}", attributes={"seq": i, "route": "/api"}).end()
            provider.force_flush(timeout_millis=600_000)
            ingest_s = _wait_rows(emu_endpoint, config, "traces", instance, spans, 600) - t1
            provider.shutdown()
        finally:
            server.stop()
            delivery.close()
    send_rate, ingest_rate = spans / send_s, spans / ingest_s
    return {
        "spans": spans,
        "doit_send_rows_per_s": round(send_rate),
        "receiver_spans_per_s": round(ingest_rate),
        "receiver_over_send": round(ingest_rate / send_rate, 3),
        "goal": "receiver_over_send >= 0.7",
    }


FIGURES = ("converter", "cost", "end_to_end", "memory", "concurrency")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=10_000, help="rows per converter request (default 10,000)"
    )
    parser.add_argument("--spans", type=int, default=20_000, help="spans for the end-to-end figure")
    parser.add_argument(
        "--only",
        default=",".join(FIGURES),
        help=f"comma-separated figures to measure (default: all of {FIGURES})",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    only = [f for f in args.only.split(",") if f]
    unknown = sorted(set(only) - set(FIGURES))
    if unknown:
        parser.error(f"--only {','.join(unknown)} is invalid: must be among {','.join(FIGURES)}")
    stamp = {"machine": machine(), "command": "python bench/ingest.py " + " ".join(argv or sys.argv[1:])}

    def record(name: str, figure: dict[str, Any]) -> None:
        print(json.dumps({name: figure}, indent=2), flush=True)
        merge_under(args.out, "ingest", name, {**figure, **stamp})

    if "converter" in only:
        record("converter", bench_converter(args.rows))
    if "cost" in only:
        from bench.ingest_cost import bench_cost

        record("cost", bench_cost())
    if set(only) & {"end_to_end", "memory", "concurrency"}:
        with (
            tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
            emulator_process(Path(tmp) / "data") as emu,
        ):
            if "end_to_end" in only:
                record("end_to_end", bench_end_to_end(emu.endpoint, args.spans))
            if {"memory", "concurrency"} & set(only):
                deploy_local(emu.endpoint)  # converged already when end_to_end ran: no change
            from bench.ingest_memory import bench_concurrency, bench_memory

            if "memory" in only:
                record("memory", bench_memory(emu.endpoint))
            if "concurrency" in only:
                record("concurrency", bench_concurrency(emu.endpoint))
    print(f"wrote {args.out} (key 'ingest': {', '.join(only)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
