"""Faults in Firehose lose nothing. The OpenTelemetry SDK's own exporter and retry do the sending.

- 20% of every PutRecordBatch failing: 10,000 spans land exactly once (the sender resends only the
  failed records, and the receiver answers 200 only when all rows were handed on).
- Firehose failing every call: the receiver answers 503 with Retry-After; once the fault is cleared, the
  exporter's own retry delivers everything.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.cli.ingest.ingest_helpers import deploy, receiver
from tests.waiting import wait_for

SPANS = 10_000
BATCH = 1000  # spans per export request: SPANS // BATCH requests


def _names(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["span_name"] for r in rows)


def test_10000_sdk_spans_land_exactly_once_with_20_percent_of_records_failing(emulator):
    cfg = deploy(emulator, signals="traces")
    emulator.set_faults({"put_record_failures": {"fraction": 0.2, "seed": 13}})
    with receiver(emulator, cfg) as ing:
        provider = TracerProvider(resource=Resource.create({"service.name": "faults"}))
        # Only full batches of BATCH leave: the worker wakes when the queue reaches BATCH (never on its
        # timer, an hour), and force_flush sends the rest, a multiple of BATCH. With a short delay, a loaded
        # machine let the timer send a partial batch: 11 requests instead of 10.
        processor = BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{ing.endpoint}/v1/traces", timeout=60),
            max_queue_size=SPANS,
            max_export_batch_size=BATCH,
            schedule_delay_millis=3_600_000,
        )
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("faults")
        for i in range(SPANS):
            tracer.start_span(f"span-{i}", attributes={"seq": i}).end()
        assert provider.force_flush(timeout_millis=120_000)
        provider.shutdown()
        fired = int(emulator.faults()["fired"].get("put_record_failures", 0))
        emulator.clear_faults()
        health = ing.health()
        names = _names(ing.rows("traces"))
    assert fired > 0  # the fault really failed records
    assert health["requests"] == {"200": SPANS // BATCH} and health["rows"] == {"traces": SPANS}
    assert len(names) == SPANS and set(names.values()) == {1}  # every span, each once
    assert set(names) == {f"span-{i}" for i in range(SPANS)}


def test_firehose_failing_every_call_gets_503_and_the_sdk_retry_delivers_after(emulator):
    cfg = deploy(emulator, signals="traces", **{"ingest.sender_deadline_seconds": "1"})
    provider = TracerProvider(resource=Resource.create({"service.name": "outage"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("outage")
    for i in range(50):
        tracer.start_span(f"outage-{i}").end()
    spans = memory.get_finished_spans()

    emulator.set_faults({"put_record_failures": {"fraction": 1.0, "seed": 1}})
    with receiver(emulator, cfg) as ing:
        request = ExportTraceServiceRequest()
        request.resource_spans.add().scope_spans.add().spans.add(
            name="raw", trace_id=b"\1" * 16, span_id=b"\2" * 8, start_time_unix_nano=1, end_time_unix_nano=2
        )
        status, headers, _ = ing.post("/v1/traces", request.SerializeToString())
        assert status == 503 and int(headers["Retry-After"]) >= 1

        result: dict[str, Any] = {}
        exporter = OTLPSpanExporter(endpoint=f"{ing.endpoint}/v1/traces", timeout=120)
        sender = threading.Thread(target=lambda: result.setdefault("r", exporter.export(spans)))
        sender.start()
        # The exporter is refused at least once more, then the outage ends.
        wait_for(
            lambda: ing.health()["requests"].get("503", 0) >= 2, 60.0, what="the exporter's refused request"
        )
        emulator.clear_faults()
        sender.join(timeout=180)
        assert not sender.is_alive()
        names = _names(ing.rows("traces"))
        log = ing.log.getvalue()
    assert result["r"].name == "SUCCESS"
    assert "status=503" in log
    assert names == Counter({f"outage-{i}": 1 for i in range(50)})  # nothing lost, nothing twice
