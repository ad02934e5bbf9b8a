"""bench/ingest.py runs: its converter and concurrency figures on a tiny size (the figures themselves are
never asserted, only that they were measured and are complete)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.ingest import bench_converter, deploy_local, main
from bench.ingest_memory import bench_concurrency
from bench.otlp_requests import logs_request, spans_request


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


def test_concurrency_bench_runs_on_a_tiny_size(emulator: Any) -> None:
    deploy_local(emulator.endpoint)
    out = bench_concurrency(emulator.endpoint, clients=4, rounds=1, size=64 * 1024)
    assert out["requests"] == 4 and sum(out["outcomes"].values()) == 4
    assert out["resets"] == 0 and out["peak_rss_mb"] >= out["idle_rss_mb"] > 0
    assert out["concurrency_limit"] >= 1 and out["request_bytes"] <= 64 * 1024


def test_each_figure_is_merged_under_ingest_keeping_the_others(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"query": {"q": 1}, "ingest": {"memory": {"old": True}, "cost": {"c": 2}}}))
    assert main(["--only", "converter", "--rows", "20", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["query"] == {"q": 1}
    assert doc["ingest"]["memory"] == {"old": True} and doc["ingest"]["cost"] == {"c": 2}
    assert doc["ingest"]["converter"]["logs"]["rows"] == 20
    assert doc["ingest"]["converter"]["command"].endswith("--only converter --rows 20 --out " + str(out))
