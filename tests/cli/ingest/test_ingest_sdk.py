"""The real OpenTelemetry SDK exports to the receiver; the tables hold exactly what it sent.

Nothing between the SDK and the receiver is ours: the SDK's OTLP/HTTP exporters send (protobuf), or the
SDK's own protobuf encoders build the request that is then posted as OTLP/JSON. Expected values are
computed from the SDK's objects, never from ingest/'s code.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context

from tests.cli.ingest.ingest_helpers import deploy, micros, otlp_json, receiver

# Attributes of every type the SDK accepts: string, bool, int, double, and arrays of each.
ATTRS: dict[str, Any] = {
    "http.method": "GET",
    "flag": True,
    "count": 42,
    "ratio": 0.25,
    "names": ["a", "b"],
    "bools": [True, False],
    "ints": [1, 2, 3],
    "doubles": [0.5, 1.5],
}
SCOPE_ATTRS = {"scope.kind": "test"}


def _json(obj: Any) -> str | None:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")) if obj else None


def _resource(instance: str) -> Resource:
    return Resource.create(
        {
            "service.name": "checkout",
            "service.namespace": "shop",
            "service.instance.id": instance,
            "k8s.pod": 3,
        }
    )


def _common(row: dict[str, Any], resource: Resource, scope: str) -> None:
    assert row["service_name"] == "checkout"
    assert row["service_namespace"] == "shop"
    assert row["service_instance_id"] == resource.attributes["service.instance.id"]
    assert row["resource_attributes"] == _json(dict(resource.attributes))
    assert row["scope_name"] == scope
    assert row["scope_version"] == "1.2.3"
    assert row["scope_attributes"] == _json(SCOPE_ATTRS)


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_sdk_spans_land_with_every_value(emulator, encoding):
    cfg = deploy(emulator)
    resource = _resource(f"spans-{encoding}")
    provider = TracerProvider(resource=resource)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.ingest", "1.2.3", attributes=SCOPE_ATTRS)
    with tracer.start_as_current_span("lonely") as other:
        pass
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER, attributes=ATTRS) as parent:
        parent.add_event("cache.miss", {"key": "k1", "size": 3})
        parent.add_event("bare")
        link = Link(other.get_span_context(), {"link.reason": "retry", "n": 1})
        with tracer.start_span(
            "child", context=set_span_in_context(parent), kind=SpanKind.CLIENT, links=[link]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    spans: Any = memory.get_finished_spans()
    assert len(spans) == 3
    sent = encode_spans(spans)
    flags = {
        s.span_id.hex(): s.flags for rs in sent.resource_spans for ss in rs.scope_spans for s in ss.spans
    }

    with receiver(emulator, cfg) as ing:
        if encoding == "protobuf":
            assert OTLPSpanExporter(endpoint=f"{ing.endpoint}/v1/traces").export(spans).name == "SUCCESS"
        else:
            status, headers, _ = ing.post("/v1/traces", otlp_json(sent), "application/json")
            assert status == 200 and headers["Content-Type"] == "application/json"
        rows = {r["span_id"]: r for r in ing.rows("traces")}

    assert len(rows) == 3
    for span in spans:
        row = rows[format(span.context.span_id, "016x")]
        _common(row, resource, "tests.ingest")
        assert row["trace_id"] == format(span.context.trace_id, "032x")
        assert row["parent_span_id"] == (format(span.parent.span_id, "016x") if span.parent else None)
        assert row["trace_state"] is None
        assert row["span_name"] == span.name
        assert row["span_kind"] == span.kind.value + 1  # the SDK's enum starts at INTERNAL=0, OTLP's at 1
        assert row["status_code"] == span.status.status_code.value
        assert row["status_message"] == span.status.description
        assert micros(row["timestamp"]) == span.start_time // 1000
        assert row["end_timestamp"] == span.end_time // 1_000_000
        assert row["duration"] == (span.end_time - span.start_time) // 1_000_000
        assert row["span_attributes"] == _json(dict(span.attributes))
        events = [
            {
                "timestamp": e.timestamp // 1000,
                "name": e.name,
                "attributes": dict(e.attributes) or None,
                "dropped_attributes_count": 0,
            }
            for e in span.events
        ]
        assert row["events_json"] == _json(events)
        links = [
            {
                "trace_id": format(lk.context.trace_id, "032x"),
                "span_id": format(lk.context.span_id, "016x"),
                "trace_state": None,
                "attributes": dict(lk.attributes) or None,
                "dropped_attributes_count": 0,
            }
            for lk in span.links
        ]
        assert row["links_json"] == _json(links)
        assert (
            row["dropped_attributes_count"] == row["dropped_events_count"] == row["dropped_links_count"] == 0
        )
        assert row["flags"] == flags[row["span_id"]]
    assert rows[format(spans[2].context.span_id, "016x")]["status_code"] == 0  # parent: unset


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_sdk_logs_land_with_every_value(emulator, encoding):
    cfg = deploy(emulator)
    resource = _resource(f"logs-{encoding}")
    provider = LoggerProvider(resource=resource)
    memory = InMemoryLogRecordExporter()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("tests.ingest.logs", "1.2.3", attributes=SCOPE_ATTRS)
    tracer = TracerProvider(resource=resource).get_tracer("t")
    t0 = time.time_ns() - 5_000_000_123
    map_body: Any = {"user": {"id": 7, "tags": ["a", "b"]}, "ok": True, "ratio": 0.5}
    with tracer.start_as_current_span("op") as span:
        logger.emit(
            LogRecord(
                timestamp=t0,
                observed_timestamp=t0 + 1_000_000,
                severity_number=SeverityNumber.WARN,
                severity_text="warning",
                body="plain text body",
                attributes=ATTRS,
            )
        )
    logger.emit(
        LogRecord(observed_timestamp=t0 + 2_000_000_000, severity_number=SeverityNumber.ERROR2, body=map_body)
    )
    records = memory.get_finished_logs()
    assert len(records) == 2
    sent = encode_logs(records)

    with receiver(emulator, cfg) as ing:
        if encoding == "protobuf":
            assert OTLPLogExporter(endpoint=f"{ing.endpoint}/v1/logs").export(records).name == "SUCCESS"
        else:
            status, _, _ = ing.post("/v1/logs", otlp_json(sent), "application/json")
            assert status == 200
        rows = sorted(ing.rows("logs"), key=lambda r: r["observed_timestamp"])

    assert len(rows) == 2
    first, second = rows
    for row in rows:
        _common(row, resource, "tests.ingest.logs")
    ctx = span.get_span_context()
    assert first["trace_id"] == format(ctx.trace_id, "032x")
    assert first["span_id"] == format(ctx.span_id, "016x")
    assert micros(first["timestamp"]) == t0 // 1000
    assert first["observed_timestamp"] == (t0 + 1_000_000) // 1_000_000
    assert first["severity_number"] == SeverityNumber.WARN.value
    assert first["severity_text"] == "warning"
    assert first["body"] == "plain text body"
    assert first["log_attributes"] == _json(ATTRS)
    # Without a timestamp: the observed time; without severity text: the number's short name.
    assert second["trace_id"] is None and second["span_id"] is None
    assert micros(second["timestamp"]) == (t0 + 2_000_000_000) // 1000
    assert second["observed_timestamp"] == (t0 + 2_000_000_000) // 1_000_000
    assert second["severity_number"] == SeverityNumber.ERROR2.value
    assert second["severity_text"] == "ERROR"
    assert second["body"] == _json(map_body)
    assert second["log_attributes"] is None


def _metrics_data(resource: Resource) -> Any:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=resource,
        metric_readers=[reader],
        views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = provider.get_meter("tests.ingest.metrics", "1.2.3", attributes=SCOPE_ATTRS)
    meter.create_counter("requests", unit="1", description="requests served").add(5, {"route": "/a"})
    meter.create_gauge("temperature", unit="Cel").set(21.5, {"room": "lab"})
    hist = meter.create_histogram("latency", unit="ms")
    exp = meter.create_histogram("latency.exp", unit="ms")
    for v in (3.0, 7.5, 120.0, 0.0):
        hist.record(v, {"route": "/a"})
        exp.record(v, {"route": "/a"})
    return reader.get_metrics_data()


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_sdk_metrics_land_with_every_value(emulator, encoding):
    cfg = deploy(emulator)
    resource = _resource(f"metrics-{encoding}")
    data = _metrics_data(resource)
    metrics = {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert set(metrics) == {"requests", "temperature", "latency", "latency.exp"}

    with receiver(emulator, cfg) as ing:
        if encoding == "protobuf":
            assert OTLPMetricExporter(endpoint=f"{ing.endpoint}/v1/metrics").export(data).name == "SUCCESS"
        else:
            status, _, _ = ing.post("/v1/metrics", otlp_json(encode_metrics(data)), "application/json")
            assert status == 200
        tables = {s: ing.rows(s) for s in ("sum", "gauge", "histogram", "exp_histogram")}

    assert all(len(rows) == 1 for rows in tables.values()), {s: len(r) for s, r in tables.items()}
    expected = {
        "sum": metrics["requests"],
        "gauge": metrics["temperature"],
        "histogram": metrics["latency"],
        "exp_histogram": metrics["latency.exp"],
    }
    for signal, metric in expected.items():
        row = tables[signal][0]
        point = metric.data.data_points[0]
        _common(row, resource, "tests.ingest.metrics")
        assert row["metric_name"] == metric.name
        assert row["metric_description"] == (metric.description or None)
        assert row["metric_unit"] == metric.unit
        assert row["metric_attributes"] == _json(dict(point.attributes))
        assert micros(row["timestamp"]) == point.time_unix_nano // 1000
        start = getattr(point, "start_time_unix_nano", None)  # the SDK's gauge points have none
        assert row["start_timestamp"] == (start // 1_000_000 if start else None)
        assert row["exemplars_json"] is None
        if signal != "gauge":
            assert row["aggregation_temporality"] == metric.data.aggregation_temporality.value
    assert tables["sum"][0]["value"] == 5.0 and tables["sum"][0]["is_monotonic"] is True
    assert tables["gauge"][0]["value"] == 21.5
    h = tables["histogram"][0]
    hp = metrics["latency"].data.data_points[0]
    assert (h["count"], h["sum"], h["min"], h["max"]) == (hp.count, hp.sum, hp.min, hp.max)
    assert h["bucket_counts"] == json.dumps(list(hp.bucket_counts), separators=(",", ":"))
    assert h["explicit_bounds"] == json.dumps([float(b) for b in hp.explicit_bounds], separators=(",", ":"))
    e = tables["exp_histogram"][0]
    ep = metrics["latency.exp"].data.data_points[0]
    assert (e["count"], e["sum"], e["min"], e["max"]) == (ep.count, ep.sum, ep.min, ep.max)
    assert (e["scale"], e["zero_count"], e["zero_threshold"]) == (ep.scale, ep.zero_count, 0.0)
    assert e["positive_offset"] == ep.positive.offset
    assert e["positive_bucket_counts"] == json.dumps(list(ep.positive.bucket_counts), separators=(",", ":"))
    assert e["negative_offset"] == ep.negative.offset
    assert e["negative_bucket_counts"] == json.dumps(list(ep.negative.bucket_counts), separators=(",", ":"))
