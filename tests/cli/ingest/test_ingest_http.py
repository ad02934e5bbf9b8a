"""A client that sends every body chunked over HTTP/1.1 (`Transfer-Encoding: chunked`, as some OpenTelemetry
SDKs do), plain and gzip, protobuf and OTLP/JSON, on one kept-alive connection: every row lands.

The client is the standard library's http.client with `encode_chunked=True` and bodies given as iterables;
the requests are built by the OpenTelemetry SDK's own encoders from spans and log records the SDK made.
"""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator

from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.cli.ingest.ingest_helpers import TOKEN, deploy, otlp_json, receiver


def _pieces(body: bytes, size: int = 333) -> Iterator[bytes]:
    """The body as http.client sends an iterable with encode_chunked: one chunk per piece."""
    return (body[i : i + size] for i in range(0, len(body), size))


def test_chunked_bodies_over_one_http_1_1_connection_land(emulator):
    cfg = deploy(emulator, signals="logs,traces", **{"ingest.token": TOKEN})
    resource = Resource.create({"service.name": "chunked", "service.instance.id": "chunked-1"})
    tracer_provider = TracerProvider(resource=resource)
    spans = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = tracer_provider.get_tracer("tests.chunked")
    for i in range(40):
        tracer.start_span(f"chunked-{i}", attributes={"i": i, "pad": "x" * 200}).end()
    logger_provider = LoggerProvider(resource=resource)
    logs = InMemoryLogRecordExporter()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    logger = logger_provider.get_logger("tests.chunked")
    for i in range(25):
        logger.emit(LogRecord(body=f"chunked log {i}", attributes={"i": i}))
    finished = list(spans.get_finished_spans())
    trace_body = encode_spans(finished[:20]).SerializeToString()
    trace_gzip = gzip.compress(encode_spans(finished[20:]).SerializeToString())
    log_json_gzip = gzip.compress(otlp_json(encode_logs(list(logs.get_finished_logs()))))

    with receiver(emulator, cfg) as ing:
        conn = http.client.HTTPConnection("127.0.0.1", ing.server.port, timeout=60)
        sockets = []
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for path, body, headers in (
            ("/v1/traces", trace_body, {"Content-Type": "application/x-protobuf"}),
            (
                "/v1/traces",
                trace_gzip,
                {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
            ),
            ("/v1/logs", log_json_gzip, {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
        ):
            conn.request("POST", path, body=_pieces(body), headers={**headers, **auth}, encode_chunked=True)
            resp = conn.getresponse()
            payload = resp.read()
            assert resp.status == 200, (path, resp.status, payload)
            sockets.append(conn.sock)
        conn.close()
        assert sockets[0] is not None and sockets == [sockets[0]] * 3  # one connection, kept alive
        span_names = sorted(r["span_name"] for r in ing.rows("traces"))
        log_bodies = sorted(r["body"] for r in ing.rows("logs"))
    assert span_names == sorted(f"chunked-{i}" for i in range(40))
    assert log_bodies == sorted(f"chunked log {i}" for i in range(25))
