"""The edges of otlp-mapping.md ("what a receiver owes every client"), each through the one Receiver on both
paths: the local server (`doit ingest`'s) and the Lambda handler (`ingest.lambda_handler.handler`, built
from the environment the stack sets, against the local AWS's Firehose).

- gzip: every member of a multi-member body is the body; bytes after the last member that are not
  another member are a 400.
- OTLP/JSON: a key given twice, or in both spellings, is a 400; so is nesting past the limit (1,000
  levels in 2 KB used to raise RecursionError: a dropped connection locally, a 502 from the Lambda).
- Ids of the wrong length and values that do not fit their column refuse their item, counted and named in
  partial_success; the request's other rows land.
- A request of more items than `ingest.max_rows` is a 413, with nothing handed on.
Every row handed on lands: the local AWS's delivery fails none of them.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ingest import lambda_handler
from tests.cli.ingest.ingest_helpers import deploy, receiver
from tests.cli.ingest.test_lambda_handler import url_event
from tests.emulator.streams import flush_until_quiet

NOW_NS = 1_767_225_600_000_000_000
PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_ROWS = 40
TRACE = bytes(range(1, 17))
RESPONSES: dict[str, Any] = {
    "/v1/traces": ExportTraceServiceResponse,
    "/v1/logs": ExportLogsServiceResponse,
    "/v1/metrics": ExportMetricsServiceResponse,
}


def _spans(tag: str, *specs: dict[str, Any]) -> ExportTraceServiceRequest:
    """One span per spec (name suffix and field overrides), valid ids unless the spec says otherwise."""
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i, spec in enumerate(specs):
        span = ss.spans.add(name=f"{tag}-{spec.get('name', i)}", start_time_unix_nano=NOW_NS)
        span.end_time_unix_nano = NOW_NS + 10**6
        span.trace_id, span.span_id = TRACE, (i + 1).to_bytes(8, "big")
        for key, value in spec.items():
            if key == "link":
                span.links.add(trace_id=value[0], span_id=value[1])
            elif key != "name":
                setattr(span, key, value)
    return req


def _good_spans(tag: str, n: int) -> bytes:
    return _spans(tag, *({"name": f"ok{i}"} for i in range(n))).SerializeToString()


def _json_spans(tag: str, trace_id: str = TRACE.hex()) -> bytes:
    span = {"traceId": trace_id, "spanId": "0102030405060708", "name": f"{tag}-json"}
    span |= {"startTimeUnixNano": str(NOW_NS), "endTimeUnixNano": str(NOW_NS + 1)}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


def _logs(tag: str) -> bytes:
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for body, trace_id, span_id in (
        ("no ids", b"", b""),
        ("zero ids", b"\0" * 16, b"\0" * 8),
        ("short trace id", b"\1" * 4, b""),
        ("long span id", b"", b"\1" * 9),
        ("ids", TRACE, b"\2" * 8),
    ):
        rec = sl.log_records.add(time_unix_nano=NOW_NS, trace_id=trace_id, span_id=span_id)
        rec.body.string_value = f"{tag}-{body}"
    return req.SerializeToString()


def _metrics(tag: str) -> bytes:
    req = ExportMetricsServiceRequest()
    sm = req.resource_metrics.add().scope_metrics.add()
    hist = sm.metrics.add(name=f"{tag}-h").histogram
    hist.aggregation_temporality = 2
    hist.data_points.add(time_unix_nano=NOW_NS, count=2**64 - 1)  # fixed64 above int64: refused
    hist.data_points.add(time_unix_nano=NOW_NS, count=2**63 - 1, flags=2**32 - 1)  # the largest that fit
    exp = sm.metrics.add(name=f"{tag}-e").exponential_histogram
    exp.aggregation_temporality = 2
    exp.data_points.add(time_unix_nano=NOW_NS, count=1, zero_count=2**63)  # refused
    exp.data_points.add(time_unix_nano=NOW_NS, count=1, zero_count=1)
    gauge = sm.metrics.add(name=f"{tag}-g").gauge
    bad = gauge.data_points.add(time_unix_nano=NOW_NS, as_double=1.0)
    bad.exemplars.add(time_unix_nano=NOW_NS, as_double=1.0, span_id=b"\1" * 5)  # refused
    good = gauge.data_points.add(time_unix_nano=NOW_NS, as_double=2.0)
    good.exemplars.add(time_unix_nano=NOW_NS, as_double=1.0, span_id=b"\1" * 8, trace_id=TRACE)
    return req.SerializeToString()


def _split_gzip(body: bytes) -> bytes:
    """The body as two gzip members, split in the middle of a message (RFC 1952 section 2.2)."""
    half = len(body) // 2
    return gzip.compress(body[:half]) + gzip.compress(body[half:])


@dataclass
class Edge:
    path: str
    body: Callable[[str], bytes]
    status: int
    rejected: int = 0
    says: tuple[str, ...] = ()  # what the 400/413 message or partial_success's error_message names
    ctype: str = PROTOBUF
    headers: dict[str, str] = field(default_factory=dict)
    lands: dict[str, set[str]] = field(default_factory=dict)  # signal -> names (tag stripped) that land
    settings: dict[str, str] = field(default_factory=dict)  # the env's, beside the defaults


GZIP = {"Content-Encoding": "gzip"}
EDGES: dict[str, Edge] = {
    "gzip of two members": Edge(
        "/v1/traces",
        lambda t: _split_gzip(_good_spans(t, 3)),
        200,
        headers=GZIP,
        lands={"traces": {"ok0", "ok1", "ok2"}},
    ),
    "gzip then garbage": Edge(
        "/v1/traces",
        lambda t: gzip.compress(_good_spans(t, 1)) + b"garbage",
        400,
        says=("not another gzip member",),
        headers=GZIP,
    ),
    "gzip then a cut member": Edge(
        "/v1/traces",
        lambda t: gzip.compress(_good_spans(t, 1)) + gzip.compress(b"more")[:12],
        400,
        says=("truncated",),
        headers=GZIP,
    ),
    "JSON key twice": Edge(
        "/v1/traces",
        lambda t: _json_spans(t)[:-1] + b', "resourceSpans": []}',
        400,
        says=("'resourceSpans' twice",),
        ctype=JSON,
    ),
    "JSON key in both spellings": Edge(
        "/v1/traces",
        lambda t: _json_spans(t)[:-1] + b', "resource_spans": []}',
        400,
        says=("'resourceSpans' and 'resource_spans'",),
        ctype=JSON,
    ),
    "JSON nested 1,000 levels in 2 KB": Edge(
        "/v1/logs",
        lambda t: b'{"resourceLogs":' + b"[" * 1000 + b"]" * 1000 + b"}",
        400,
        says=("nested deeper than 200",),
        ctype=JSON,
    ),
    "span ids of the wrong length": Edge(
        "/v1/traces",
        lambda t: _spans(
            t,
            {"name": "root"},  # no parent: a root span
            {"name": "child", "parent_span_id": b"\7" * 8},
            {"name": "short-trace", "trace_id": b"\1" * 5},
            {"name": "no-span-id", "span_id": b""},
            {"name": "long-parent", "parent_span_id": b"\7" * 9},
            {"name": "bad-link", "link": (b"\1" * 15, b"\2" * 8)},
        ).SerializeToString(),
        200,
        rejected=4,
        says=(
            "a span's trace_id must be 16 bytes, not 5",
            "a span's span_id must be 8 bytes, not 0",
            "a span's parent_span_id must be 8 bytes or empty, not 9",
            "a link's trace_id must be 16 bytes, not 15",
        ),
        lands={"traces": {"root", "child"}},
    ),
    "a JSON trace id of 2 bytes": Edge(
        "/v1/traces",
        lambda t: _json_spans(t, "0102"),
        200,
        rejected=1,
        says=("a span's trace_id must be 16 bytes, not 2",),
        ctype=JSON,
        lands={"traces": set()},
    ),
    "log record ids of the wrong length": Edge(
        "/v1/logs",
        _logs,
        200,
        rejected=2,
        says=("a log record's trace_id must be 16 bytes or empty, not 4", "span_id must be 8 bytes"),
        lands={"logs": {"no ids", "zero ids", "ids"}},
    ),
    "counts above int64, an exemplar's short id": Edge(
        "/v1/metrics",
        _metrics,
        200,
        rejected=3,
        says=(
            f"the point's count {2**64 - 1} does not fit its int64 column",
            f"the point's zero_count {2**63} does not fit its int64 column",
            "an exemplar's span_id must be 8 bytes or empty, not 5",
        ),
        lands={"histogram": {"h"}, "exp_histogram": {"e"}, "gauge": {"g"}},
    ),
    "more spans than max_rows": Edge(
        "/v1/traces",
        lambda t: _good_spans(t, MAX_ROWS + 1),
        413,
        says=(f"limit of {MAX_ROWS} per request",),
        settings={"ingest.max_rows": str(MAX_ROWS)},
    ),
    "more spans than max_rows, in a body parsed in slices": Edge(
        "/v1/traces",
        lambda t: _spans(
            t, *({"name": f"big{i}-" + "x" * 4000} for i in range(MAX_ROWS + 1))
        ).SerializeToString(),
        413,
        says=(f"limit of {MAX_ROWS} per request",),
        settings={"ingest.max_rows": str(MAX_ROWS)},
    ),
    "more JSON spans than max_rows": Edge(
        "/v1/traces",
        lambda t: json.dumps(
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": t}] * (MAX_ROWS + 1)}]}]}
        ).encode(),
        413,
        says=(f"holds {MAX_ROWS + 1} items",),
        ctype=JSON,
        settings={"ingest.max_rows": str(MAX_ROWS)},
    ),
}


def _message(edge: Edge, status: int, ctype: str, payload: bytes) -> str:
    if status != 200:
        return str(json.loads(payload)["message"]) if ctype == JSON else payload.decode("utf-8", "replace")
    if ctype == JSON:
        partial = json.loads(payload).get("partialSuccess", {})
        rejected = next((int(v) for k, v in partial.items() if k.startswith("rejected")), 0)
        return f"{partial.get('errorMessage', '')} rejected={rejected}"
    partial = RESPONSES[edge.path].FromString(payload).partial_success
    rejected = next((v for f, v in partial.ListFields() if f.name.startswith("rejected")), 0)
    return f"{partial.error_message} rejected={rejected}"


def _check(what: str, edge: Edge, status: int, ctype: str, payload: bytes) -> None:
    assert status == edge.status, (what, status, payload[:300])
    text = _message(edge, status, ctype, payload)
    for fragment in edge.says:
        assert fragment in text, (what, text)
    if status == 200:
        assert text.endswith(f"rejected={edge.rejected}"), (what, text)


def _lambda_environment(emulator: Any, cfg: Any, edge: Edge, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler's Receiver, built as its cold start builds it, from the environment the stack sets."""
    env = {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "OTLP_AUTH": "iam",
        **{f"OTLP_STREAM_{s.upper()}": cfg.stream_name(s) for s in cfg.signals},
    }
    if "ingest.max_rows" in edge.settings:  # as the template sets it from the setting
        env["OTLP_MAX_ROWS"] = edge.settings["ingest.max_rows"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    lambda_handler.reset()


NAMES = {"traces": "span_name", "logs": "body", "histogram": "metric_name"}


def _names(rows: list[dict[str, Any]], signal: str, tag: str) -> set[str]:
    column = NAMES.get(signal, "metric_name")
    return {str(r[column]).split("-", 1)[1] for r in rows if str(r[column]).startswith(f"{tag}-")}


@pytest.mark.parametrize("what", list(EDGES))
def test_each_edge_through_the_local_server_and_the_lambda_handler(emulator, monkeypatch, what):
    edge = EDGES[what]
    cfg = deploy(emulator, **{"ingest.enabled": "false", **edge.settings})
    _lambda_environment(emulator, cfg, edge, monkeypatch)

    def puts() -> int:
        return emulator.call_count("firehose", "PutRecordBatch")

    try:
        with receiver(emulator, cfg) as ing:
            for tag in ("local", "lambda"):
                before = puts()
                body = edge.body(tag)
                if tag == "local":
                    headers: Any = edge.headers
                    status, _, payload = ing.post(edge.path, body, edge.ctype, **headers)
                else:
                    event = url_event(edge.path, body, headers={"content-type": edge.ctype, **edge.headers})
                    out = lambda_handler.handler(event, None)
                    status, raw = out["statusCode"], out["body"]
                    payload = base64.b64decode(raw) if out["isBase64Encoded"] else raw.encode()
                _check(f"{what} ({tag})", edge, status, edge.ctype, payload)
                if status != 200:
                    assert puts() == before, f"{what} ({tag}) handed rows on"
            landed = flush_until_quiet(emulator)
            rows = {signal: ing.rows(signal) for signal in edge.lands}
    finally:
        lambda_handler.reset()
    assert landed["failed"] == 0  # every row handed on is one the local AWS lands
    for tag in ("local", "lambda"):
        assert {s: _names(rows[s], s, tag) for s in edge.lands} == edge.lands, tag
    if "histogram" in rows:
        hist = next(r for r in rows["histogram"] if r["metric_name"] == "local-h")
        assert (hist["count"], hist["flags"]) == (2**63 - 1, 2**32 - 1)
        gauge = next(r for r in rows["gauge"] if r["metric_name"] == "local-g")
        assert json.loads(gauge["exemplars_json"])[0]["span_id"] == "01" * 8
