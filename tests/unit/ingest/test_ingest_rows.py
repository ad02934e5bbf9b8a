"""The rows' JSON text (ingest/mapping.py writes it directly, column by column): each row is exactly what
`json.dumps(row, separators=(",", ":"))` writes for it, and each json column exactly what
`json.dumps(value, separators=(",", ":"), sort_keys=True)` writes, for attributes of every AnyValue kind,
non-ASCII text, keys given twice and values JSON cannot carry."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.mapping import MAPPERS, Received
from lake.schemas import load
from lake.signals import ALL_SIGNALS

NOW_NS = 1_767_225_600_000_000_000
TEXTS = (
    "",
    "x",
    'quote " backslash \\ newline \n tab \t',
    "héllo wörld",
    "日本語",
    "\u2028\x7f\x00",
    "a" * 70,
)
KEYS = ("a", "b", "http.method", "dup", "dup", "ü", "", "z.y.x")


def _any(rng: random.Random, value: Any, depth: int = 0) -> None:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        value.string_value = rng.choice(TEXTS)
    elif kind == 1:
        value.int_value = rng.choice((0, -1, 2**63 - 1, -(2**63), 42))
    elif kind == 2:
        value.double_value = rng.choice((0.0, -0.0, 1.5, 1e300, 5e-324, 0.1, math.nan, math.inf))
    elif kind == 3:
        value.bool_value = rng.random() < 0.5
    elif kind == 4:
        value.bytes_value = bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
    elif kind == 5:
        pass  # an empty AnyValue
    elif kind in (6, 7):
        value.array_value.SetInParent()
        for _ in range(rng.randrange(4)):
            _any(rng, value.array_value.values.add(), depth + 1)
    else:
        value.kvlist_value.SetInParent()
        for _ in range(rng.randrange(4)):
            _any(rng, value.kvlist_value.values.add(key=rng.choice(KEYS)).value, depth + 1)


def _attrs(rng: random.Random, target: Any) -> None:
    for _ in range(rng.randrange(7)):
        _any(rng, target.add(key=rng.choice(KEYS)).value)


def _requests(rng: random.Random) -> dict[str, Any]:
    logs, traces, metrics = (
        ExportLogsServiceRequest(),
        ExportTraceServiceRequest(),
        ExportMetricsServiceRequest(),
    )
    for group, scope_of in (
        (logs.resource_logs.add(), "scope_logs"),
        (traces.resource_spans.add(), "scope_spans"),
        (metrics.resource_metrics.add(), "scope_metrics"),
    ):
        group.resource.attributes.add(key="service.name").value.string_value = rng.choice(TEXTS)
        _attrs(rng, group.resource.attributes)
        scope = getattr(group, scope_of).add()
        scope.scope.name = rng.choice(TEXTS)
        _attrs(rng, scope.scope.attributes)
    for _ in range(60):
        record = logs.resource_logs[0].scope_logs[0].log_records.add(time_unix_nano=NOW_NS, severity_number=9)
        _any(rng, record.body)
        _attrs(rng, record.attributes)
        span = (
            traces.resource_spans[0]
            .scope_spans[0]
            .spans.add(name=rng.choice(TEXTS), start_time_unix_nano=NOW_NS)
        )
        span.trace_id, span.span_id = b"\1" * 16, b"\2" * 8
        _attrs(rng, span.attributes)
        event = span.events.add(name=rng.choice(TEXTS), time_unix_nano=NOW_NS)
        _attrs(rng, event.attributes)
        metric = metrics.resource_metrics[0].scope_metrics[0].metrics.add(name=rng.choice(TEXTS))
        point = metric.gauge.data_points.add(time_unix_nano=NOW_NS, as_double=rng.choice((0.5, -0.0, 1e-300)))
        _attrs(rng, point.attributes)
        _attrs(rng, point.exemplars.add(as_int=3).filtered_attributes)
    return {"/v1/logs": logs, "/v1/traces": traces, "/v1/metrics": metrics}


def test_every_row_is_the_standard_librarys_json_of_itself() -> None:
    rng = random.Random(20)
    json_columns = {s: {c.name for c in load(s).columns if c.type == "json"} for s in ALL_SIGNALS}
    rows = 0
    for _ in range(5):
        for path, request in _requests(rng).items():
            out = MAPPERS[path](request, ALL_SIGNALS, Received(NOW_NS // 1000, NOW_NS // 1_000_000))
            for signal, records in out.records.items():
                for data in records:
                    row = json.loads(data)
                    assert data == (json.dumps(row, separators=(",", ":")) + "\n").encode()
                    assert set(row) <= {c.name for c in load(signal).columns}
                    for column in json_columns[signal] & set(row):
                        value = json.loads(row[column])
                        assert row[column] == json.dumps(value, separators=(",", ":"), sort_keys=True)
                    rows += 1
    assert rows > 500
