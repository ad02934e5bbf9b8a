"""What the receiver's rows cost, per signal: bytes per row against the OTLP protobuf they came from, the
receiver's CPU per row, Parquet bytes per row, and dollars per million rows from bench/prices.py.

    .venv/bin/python bench/ingest_cost.py [--items 2000]

The telemetry is the OpenTelemetry SDK's own, encoded by its OTLP exporters' encoders, exported in batches
of 512 as its batch processors do: HTTP server spans with a database, an HTTP client and an internal
child (one in 20 failing with an exception event), four log records per request, and the HTTP, cart and
memory metrics of `items` series each, from a service on Kubernetes on AWS whose resource (22 attributes, as
the Collector's resource detection and k8sattributes processors give) is copied onto every row.

- Bytes: each row's Firehose record (JSON and its newline), against the protobuf bytes of its item plus
  its share of its resource, scope (and metric). Median and p99.
- CPU: the process CPU time of `Receiver.handle` (decode, map, and botocore's serialisation of each
  PutRecordBatch; the call itself is answered in-process, without network or signing), per row.
- Parquet: the rows as the local AWS writes them (its record conversion, pyiceberg's zstd Parquet), in
  one file of all of a signal's rows; Firehose's own files are larger and compress at least as well.
- Dollars per million rows: Firehose's bytes, Lambda's GB-seconds for that CPU (arm64; CPU follows memory,
  so CPU-bound work costs the same at any size below 1,769 MB), its requests (512 spans or log records
  per request, one metrics export), and one month of storage.
- Contributors: the share of row bytes each column carries, and that of the columns copied from the
  resource and scope onto every row.

Written under `ingest` -> `cost` in bench/results.json (other keys are kept); asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.prices import GIB, LAMBDA_MB_PER_VCPU, PRICES  # noqa: E402
from bench.results import machine, merge_under  # noqa: E402
from lake.signals import ALL_SIGNALS, METRIC_SIGNALS  # noqa: E402

BATCH = 512  # the SDKs' batch processors' default export size
SIGNALS = ALL_SIGNALS
COPIED = ("service_name", "service_namespace", "service_instance_id", "resource_attributes")
COPIED_SCOPE = ("scope_name", "scope_version", "scope_attributes")
METRIC_KINDS = METRIC_SIGNALS  # one request per metric type
NOUNS = ("cart", "items", "orders", "users", "prices", "search", "reviews", "stock", "coupons", "wishlist")
METHODS = ("GET", "POST", "PUT", "DELETE")
STATUSES = (200, 201, 404, 429, 500)
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)


def _series(i: int) -> dict[str, Any]:
    """The attributes of the i-th distinct metric series (route x method x status x instance)."""
    return {
        "http.route": f"/api/v{1 + (i // 10) % 5}/{NOUNS[i % 10]}/{{id}}",
        "http.request.method": METHODS[(i // 50) % 4],
        "http.response.status_code": STATUSES[(i // 200) % 5],
        "server.address": f"checkout-{i // 1000}.shop.svc.cluster.local",
    }


def _resource() -> Any:
    from opentelemetry.sdk.resources import Resource

    return Resource.create(
        {
            "service.name": "checkout",
            "service.namespace": "shop",
            "service.version": "2.14.1",
            "service.instance.id": "5d2c1f0e-8a4b-4c3d-9e7f-1a2b3c4d5e6f",
            "deployment.environment.name": "production",
            "host.name": "ip-10-0-12-34.ec2.internal",
            "host.arch": "arm64",
            "os.type": "linux",
            "cloud.provider": "aws",
            "cloud.platform": "aws_eks",
            "cloud.region": "us-east-1",
            "cloud.account.id": "123456789012",
            "k8s.cluster.name": "prod-use1",
            "k8s.namespace.name": "shop",
            "k8s.deployment.name": "checkout",
            "k8s.pod.name": "checkout-7d9f8b6c5d-x2k4p",
            "container.id": "3f2a9c1b7e4d" * 5 + "a1b2",
            "process.runtime.name": "cpython",
            "process.runtime.version": "3.12.7",
        }
    )  # + telemetry.sdk.language, .name, .version from the SDK: 22


def _batches(items: list[Any], encode: Any) -> list[bytes]:
    return [bytes(encode(items[i : i + BATCH]).SerializeToString()) for i in range(0, len(items), BATCH)]


def sdk_requests(items: int) -> dict[str, list[bytes]]:
    """Protobuf request bodies per signal, as the SDK's exporters would send them."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, Status, StatusCode

    resource = _resource()
    spans = InMemorySpanExporter()
    tracing = TracerProvider(resource=resource)
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    tracer = tracing.get_tracer("checkout.http", "2.14.1")
    logs = InMemoryLogRecordExporter()
    logging_ = LoggerProvider(resource=resource)
    logging_.add_log_record_processor(SimpleLogRecordProcessor(logs))
    logger = logging_.get_logger("checkout.handlers", "2.14.1")
    reader = InMemoryMetricReader()
    meter = MeterProvider(
        resource=resource,
        metric_readers=[reader],
        views=[
            View(instrument_name="rpc.server.duration", aggregation=ExponentialBucketHistogramAggregation())
        ],
    ).get_meter("checkout.metrics", "2.14.1")
    duration = meter.create_histogram("http.server.request.duration", unit="s", description="request time")
    rpc = meter.create_histogram("rpc.server.duration", unit="ms")
    added = meter.create_counter("cart.items.added", unit="{item}", description="items put in a cart")
    memory = meter.create_gauge("process.memory.usage", unit="By")

    for r in range(items // 4):  # one request: four spans, four log records, four points per metric
        route, status = f"/api/v1/{NOUNS[r % 10]}/{{id}}", STATUSES[r % 5]
        method = METHODS[r % 4]
        attrs: dict[str, Any] = {
            "http.request.method": method,
            "url.scheme": "https",
            "url.path": route.replace("{id}", str(10_000 + r)),
            "http.route": route,
            "http.response.status_code": status,
            "server.address": "checkout.shop.svc.cluster.local",
            "server.port": 8080,
            "client.address": f"10.0.{r % 250}.{r % 200 + 1}",
            "user_agent.original": USER_AGENT,
            "network.protocol.version": "1.1",
        }
        with tracer.start_as_current_span(f"{method} {route}", kind=SpanKind.SERVER) as span:
            span.set_attributes(attrs)
            with tracer.start_as_current_span("SELECT shop.cart_items", kind=SpanKind.CLIENT) as db:
                db.set_attributes(
                    {
                        "db.system": "postgresql",
                        "db.namespace": "shop",
                        "db.operation.name": "SELECT",
                        "db.query.text": "SELECT id, sku, qty FROM cart_items WHERE cart_id = $1",
                        "server.address": "db.shop.internal",
                        "server.port": 5432,
                    }
                )
            with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT) as client:
                client.set_attributes(
                    {
                        "http.request.method": "GET",
                        "url.full": f"http://pricing.shop.svc:8080/v2/prices?sku=SKU-{r % 997}",
                        "server.address": "pricing.shop.svc",
                        "server.port": 8080,
                        "http.response.status_code": 200,
                    }
                )
            with tracer.start_as_current_span("render cart"):
                pass
            if r % 20 == 19:
                try:
                    raise ValueError(f"cart {10_000 + r} holds an item that is no longer sold")
                except ValueError as exc:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
            for k in range(4):
                i = 4 * r + k
                logger.emit(
                    LogRecord(
                        severity_number=SeverityNumber.ERROR if status == 500 else SeverityNumber.INFO,
                        severity_text="ERROR" if status == 500 else "INFO",
                        body=f"{method} {attrs['url.path']} step {k} done after {i % 90 + 3} ms",
                        attributes={
                            "code.function.name": "handlers.cart.view",
                            "http.route": route,
                            "cart.id": i,
                        },
                    )
                )
                series = _series(i)  # recorded within the span: the histograms keep exemplars of it
                duration.record((i % 90 + 3) / 1000, series)
                rpc.record(float(i % 90 + 3), series)
                added.add(1 + i % 3, series)
                memory.set(150_000_000 + i, series)

    out: dict[str, list[bytes]] = {
        "traces": _batches(list(spans.get_finished_spans()), encode_spans),
        "logs": _batches(list(logs.get_finished_logs()), encode_logs),
    }
    data = reader.get_metrics_data()
    assert data is not None
    request = encode_metrics(data)
    for kind, signal in METRIC_KINDS.items():  # one request per metric type, to measure each apart
        only = type(request)()
        only.CopyFrom(request)
        for rm in only.resource_metrics:
            for sm in rm.scope_metrics:
                keep = [m for m in sm.metrics if m.WhichOneof("data") == kind]
                del sm.metrics[:]
                sm.metrics.extend(keep)
        out[signal] = [bytes(only.SerializeToString())]
    return out


def otlp_bytes_per_item(path: str, body: bytes) -> list[float]:
    """Each item's protobuf bytes plus its share of its resource, scope (and metric) around it."""
    from ingest import decode

    request = decode.parse(path, decode.MediaType(decode.PROTOBUF), body)
    groups_field, scopes_field, items_field = decode.ITEM_PATHS[path]
    out: list[float] = []
    for group in getattr(request, groups_field):
        items: list[Any] = []
        for scope in getattr(group, scopes_field):
            for item in getattr(scope, items_field):
                if path == "/v1/metrics":
                    kind = item.WhichOneof("data")
                    items += list(getattr(item, kind).data_points) if kind else []
                else:
                    items.append(item)
        if items:
            sizes = [item.ByteSize() for item in items]
            share = (group.ByteSize() - sum(sizes)) / len(items)
            out += [size + share for size in sizes]
    return out


def _recording_session() -> Any:
    """A boto3 session whose Firehose calls are serialised as usual, then answered in this process."""
    import boto3
    from botocore.awsrequest import AWSResponse

    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        n = len(params.get("Records") or [])
        return AWSResponse("", 200, {}, None), {  # type: ignore[arg-type]
            "FailedPutCount": 0,
            "RequestResponses": [{"RecordId": "r"}] * n,
        }

    session.events.register("before-call.firehose.PutRecordBatch", answer)  # type: ignore[arg-type]
    return session


def _cpu_seconds(path: str, bodies: list[bytes]) -> float:
    from ingest.app import Receiver, Settings
    from ingest.deliver import FirehoseDelivery

    delivery = FirehoseDelivery(_recording_session(), None, lambda s: f"bench-{s}")
    receiver = Receiver(Settings(signals=SIGNALS, max_body_bytes=64 << 20, max_rows=1 << 20), delivery)
    headers = {"content-type": "application/x-protobuf"}
    try:
        receiver.handle("POST", path, headers, bodies[0])  # warm: imports, clients
        started = time.process_time()
        for body in bodies:
            assert receiver.handle("POST", path, headers, body).status == 200
        return time.process_time() - started
    finally:
        delivery.close()


def _rows(path: str, bodies: list[bytes], signal: str) -> list[bytes]:
    from ingest import decode
    from ingest.mapping import MAPPERS, Received

    now = time.time_ns()
    out: list[bytes] = []
    for body in bodies:
        request = decode.parse(path, decode.MediaType(decode.PROTOBUF), body)
        out += MAPPERS[path](request, SIGNALS, Received(now // 1000, now // 1_000_000)).records.get(
            signal, []
        )
    return out


def _parquet_bytes(signal: str, rows: list[bytes]) -> int:
    import pyarrow.parquet as pq

    from emulator.firehose.data import Pending
    from emulator.firehose.records import RecordConverter
    from emulator.iceberg.schema import build_schema
    from lake.schemas import load

    schema = build_schema(
        [{"Name": c.name, "Type": c.iceberg_type, "Required": c.required} for c in load(signal).columns]
    )
    converter = RecordConverter(schema)
    good, bad = converter.convert([Pending(0, r) for r in rows])
    assert not bad, bad[:1]
    buffer = io.BytesIO()
    pq.write_table(converter.to_arrow(good), buffer, compression="zstd")  # pyiceberg's default codec
    return len(buffer.getvalue())


def _columns(rows: list[bytes]) -> Counter[str]:
    """Bytes per column over the rows: each member's '"key":value' and its comma."""
    total: Counter[str] = Counter()
    for row in rows:
        for key, value in json.loads(row).items():
            total[key] += len(json.dumps({key: value}, separators=(",", ":"))) - 1
    return total


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_cost(items: int = 2000) -> dict[str, Any]:
    requests = sdk_requests(items)
    firehose = PRICES["firehose_iceberg_per_gb"].dollars
    lambda_gbs = PRICES["lambda_arm64_per_gb_second"].dollars
    per_request = PRICES["lambda_per_million_requests"].dollars / 1e6
    storage = PRICES["s3_tables_storage_per_gb_month"].dollars
    out: dict[str, Any] = {"items_per_signal": items, "signals": {}}
    for signal in SIGNALS:
        path = "/v1/traces" if signal == "traces" else "/v1/logs" if signal == "logs" else "/v1/metrics"
        bodies = requests[signal]
        rows = _rows(path, bodies, signal)
        row_bytes = [len(r) for r in rows]
        otlp = [b for body in bodies for b in otlp_bytes_per_item(path, body)]
        cpu = _cpu_seconds(path, bodies)
        parquet = _parquet_bytes(signal, rows)
        columns = _columns(rows)
        total = sum(columns.values())
        copied = sum(columns[c] for c in COPIED) / total
        copied_scope = sum(columns[c] for c in COPIED_SCOPE) / total
        mean_row = statistics.fmean(row_bytes)
        cpu_per_row = cpu / len(rows)
        dollars = {
            "firehose": mean_row * 1e6 / GIB * firehose,
            "lambda_cpu": cpu_per_row * 1e6 * LAMBDA_MB_PER_VCPU / 1024 * lambda_gbs,
            "lambda_requests": 1e6 / (len(rows) / len(bodies)) * per_request,
            "s3_tables_month": parquet / len(rows) * 1e6 / GIB * storage,
        }
        out["signals"][signal] = {
            "rows": len(rows),
            "row_bytes": {"median": statistics.median(row_bytes), "p99": _pct(row_bytes, 0.99)},
            "otlp_bytes": {"median": round(statistics.median(otlp), 1), "p99": round(_pct(otlp, 0.99), 1)},
            "row_over_otlp": round(sum(row_bytes) / sum(otlp), 2),
            "cpu_us_per_row": round(cpu_per_row * 1e6, 1),
            "parquet_bytes_per_row": round(parquet / len(rows), 1),
            "dollars_per_million_rows": {k: round(v, 4) for k, v in dollars.items()}
            | {"total": round(sum(dollars.values()), 4)},
            "biggest_columns": [
                {"column": c, "share": round(n / total, 3)} for c, n in columns.most_common(5)
            ],
            "copied_resource_share": round(copied, 3),
            "copied_scope_share": round(copied_scope, 3),
        }
    out["prices"] = {k: vars(p) for k, p in PRICES.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000, help="spans (and log records, points) per signal")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    result = {
        "machine": machine(),
        "command": "python bench/ingest_cost.py " + " ".join(argv or sys.argv[1:]),
        **bench_cost(args.items),
    }
    summary = {
        s: {
            "row_bytes": v["row_bytes"],
            "otlp_bytes": v["otlp_bytes"],
            "$/M rows": v["dollars_per_million_rows"]["total"],
            "copied_resource_share": v["copied_resource_share"],
        }
        for s, v in result["signals"].items()
    }
    print(json.dumps(summary, indent=2), flush=True)
    merge_under(args.out, "ingest", "cost", result)
    print(f"wrote {args.out} (key 'ingest' -> 'cost')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
