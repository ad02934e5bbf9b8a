"""The OTLP requests the ingest benchmarks send: logs and spans with the attributes a service sets."""

from __future__ import annotations

import os
import time
from typing import Any

MIB = 1024 * 1024


def _attrs(target: Any, i: int) -> None:
    for k, v in (
        ("http.method", "GET"),
        ("http.route", f"/api/v1/items/{i % 97}"),
        ("http.status_code", 200 + i % 5),
        ("net.peer.name", "backend.internal"),
        ("user.id", f"user-{i % 1000}"),
        ("retry", i % 2 == 0),
        ("latency.ratio", (i % 100) / 100),
        ("region", "us-east-1"),
        ("component", "checkout"),
        ("tags", None),
    ):
        kv = target.add(key=k)
        if v is None:
            kv.value.array_value.values.add(string_value="a")
            kv.value.array_value.values.add(string_value="b")
        elif isinstance(v, bool):
            kv.value.bool_value = v
        elif isinstance(v, int):
            kv.value.int_value = v
        elif isinstance(v, float):
            kv.value.double_value = v
        else:
            kv.value.string_value = v


def _resource(res: Any, instance: str) -> None:
    for k, v in (("service.name", "bench"), ("service.instance.id", instance), ("host.name", "bench-host")):
        res.attributes.add(key=k).value.string_value = v


def logs_request(n: int, instance: str = "bench", body_bytes: int = 60) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    _resource(rl.resource, instance)
    sl = rl.scope_logs.add()
    sl.scope.name, sl.scope.version = "bench.logs", "1.0"
    now = time.time_ns()
    for i in range(n):
        lr = sl.log_records.add(time_unix_nano=now + i, observed_time_unix_nano=now + i, severity_number=9)
        lr.body.string_value = (f"request {i} served " + "x" * body_bytes)[:body_bytes]
        lr.trace_id = os.urandom(16)
        lr.span_id = os.urandom(8)
        _attrs(lr.attributes, i)
    return bytes(req.SerializeToString())


def spans_request(n: int) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    _resource(rs.resource, "bench")
    ss = rs.scope_spans.add()
    ss.scope.name = "bench.spans"
    now = time.time_ns()
    for i in range(n):
        span = ss.spans.add(name=f"GET /api/v1/items/{i % 97}", kind=2)
        span.trace_id, span.span_id, span.parent_span_id = os.urandom(16), os.urandom(8), os.urandom(8)
        span.start_time_unix_nano, span.end_time_unix_nano = now + i, now + i + 1_500_000
        _attrs(span.attributes, i)
    return bytes(req.SerializeToString())
