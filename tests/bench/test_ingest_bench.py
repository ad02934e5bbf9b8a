"""bench/ingest.py runs: its converter figure on a tiny size (the figures themselves are never asserted)."""

from __future__ import annotations

from bench.ingest import bench_converter, logs_request, spans_request


def test_converter_bench_runs_on_a_tiny_size() -> None:
    out = bench_converter(20, repeats=1)
    assert out["logs"]["rows"] == 20 and out["traces"]["rows"] == 20
    assert out["logs"]["rows_per_s"] > 0 and out["traces"]["rows_per_s"] > 0


def test_bench_requests_carry_about_ten_attributes_per_item() -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    logs = ExportLogsServiceRequest.FromString(logs_request(3))
    spans = ExportTraceServiceRequest.FromString(spans_request(3))
    assert [len(r.attributes) for r in logs.resource_logs[0].scope_logs[0].log_records] == [10, 10, 10]
    assert [len(s.attributes) for s in spans.resource_spans[0].scope_spans[0].spans] == [10, 10, 10]
