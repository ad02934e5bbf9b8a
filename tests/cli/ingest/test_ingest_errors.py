"""Bad input gets the OTLP/HTTP status it deserves, and nothing else of the request is lost.

Whole-request failures (400, 401, 404, 405, 413, 415) hand nothing to Firehose; refused items (200 with
partial_success) are counted and named, and every other row of the same request lands.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.cli.ingest.ingest_helpers import TOKEN, deploy, micros, receiver

NOW_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def _spans(n: int, name: str = "ok") -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        span = ss.spans.add(
            name=f"{name}-{i}", start_time_unix_nano=NOW_NS, end_time_unix_nano=NOW_NS + 10**6
        )
        span.trace_id = bytes(range(1, 17))
        span.span_id = (i + 1).to_bytes(8, "big")
    return req.SerializeToString()


def _logs(*bodies: str) -> bytes:
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for body in bodies:
        sl.log_records.add(time_unix_nano=NOW_NS).body.string_value = body
    return req.SerializeToString()


def test_bad_requests_get_their_status_and_hand_nothing_on(emulator):
    cfg = deploy(emulator, **{"ingest.token": TOKEN, "ingest.max_body_mb": "1"})
    good = _spans(2)
    bomb = gzip.compress(b"\0" * (3 * 1024 * 1024))  # a few KiB that expand to 3 MiB
    cases: dict[str, Any] = {
        "garbage bytes": ("/v1/traces", b"\xff\xfe garbage \x00\x01", "application/x-protobuf", {}, 400),
        "truncated protobuf": ("/v1/traces", good[: len(good) // 2], "application/x-protobuf", {}, 400),
        "JSON with a wrong type": ("/v1/traces", b'{"resourceSpans": "nope"}', "application/json", {}, 400),
        "JSON that is not JSON": ("/v1/logs", b"{not json", "application/json", {}, 400),
        "JSON with a non-hex id": (
            "/v1/traces",
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","name":"x"}]}]}]}',
            "application/json",
            {},
            400,
        ),
        "empty JSON body": ("/v1/traces", b"", "application/json", {}, 400),
        "wrong Content-Type": ("/v1/traces", good, "text/plain", {}, 415),
        "gzip past the limit": (
            "/v1/traces",
            bomb,
            "application/x-protobuf",
            {"Content-Encoding": "gzip"},
            413,
        ),
        "body past the limit": ("/v1/logs", b"\0" * (1024 * 1024 + 1), "application/x-protobuf", {}, 413),
        "not gzip at all": ("/v1/traces", good, "application/x-protobuf", {"Content-Encoding": "gzip"}, 400),
        "unknown path": ("/v1/profiles", good, "application/x-protobuf", {}, 404),
        "wrong token": ("/v1/traces", good, "application/x-protobuf", {"Authorization": "Bearer nope"}, 401),
        "wrong scheme": (
            "/v1/traces",
            good,
            "application/x-protobuf",
            {"Authorization": f"Basic {TOKEN}"},
            401,
        ),
    }
    with receiver(emulator, cfg) as ing:
        seen = {}
        for what, (path, body, ctype, headers, _) in cases.items():
            status, resp_headers, payload = ing.post(path, body, ctype, **headers)
            seen[what] = status
            if status == 401:
                assert resp_headers.get("WWW-Authenticate", "").startswith("Bearer"), what
        status, _, _ = ing.post("/v1/traces", good, auth=False)
        seen["missing token"] = status
        status, headers, _ = ing.request("GET", "/v1/traces")
        seen["GET"] = status
        assert headers.get("Allow") == "POST"
        status, _, payload = ing.post("/v1/traces", b"")  # an empty protobuf is an empty request
        seen["empty protobuf body"] = status
        assert seen == {
            **{what: case[4] for what, case in cases.items()},
            "missing token": 401,
            "GET": 405,
            "empty protobuf body": 200,
        }
        assert emulator.call_count("firehose", "PutRecordBatch") == 0  # nothing was handed on
        # A 400 carries a google.rpc.Status naming the problem; JSON requests get a JSON one.
        status, _, payload = ing.post("/v1/traces", b'{"resourceSpans": "nope"}', "application/json")
        assert (
            status == 400
            and json.loads(payload)["code"] == 3
            and "resourceSpans" in json.loads(payload)["message"]
        )
        # The receiver still serves, and a good request (gzip too) lands whole.
        status, _, _ = ing.post("/v1/traces", gzip.compress(good), Content_Encoding="gzip")
        assert status == 200
        rows = ing.rows("traces")
        assert sorted(r["span_name"] for r in rows) == ["ok-0", "ok-1"]
        assert "status=415" in ing.log.getvalue() and "status=200" in ing.log.getvalue()


def test_refused_items_are_counted_in_partial_success_and_the_rest_lands(emulator):
    cfg = deploy(emulator, signals="logs,traces,sum,gauge")  # no histogram, no exp_histogram
    with receiver(emulator, cfg) as ing:
        # A record over 1,000 KiB is refused; its neighbours land.
        status, _, payload = ing.post("/v1/logs", _logs("small-1", "x" * 1_100_000, "small-2"))
        assert status == 200
        partial = ExportLogsServiceResponse.FromString(payload).partial_success
        assert partial.rejected_log_records == 1 and "1,000 KiB" in partial.error_message

        req = ExportMetricsServiceRequest()
        sm = req.resource_metrics.add().scope_metrics.add()
        gauge = sm.metrics.add(name="g")
        gauge.gauge.data_points.add(time_unix_nano=NOW_NS, as_double=1.5)
        gauge.gauge.data_points.add(time_unix_nano=NOW_NS, as_double=math.nan)
        gauge.gauge.data_points.add(time_unix_nano=NOW_NS)  # no value at all
        total = sm.metrics.add(name="s")
        total.sum.data_points.add(time_unix_nano=NOW_NS, as_int=7)
        total.sum.data_points.add(time_unix_nano=NOW_NS, as_double=math.inf)
        summary = sm.metrics.add(name="summary")
        summary.summary.data_points.add(time_unix_nano=NOW_NS, count=3, sum=1.0)
        hist = sm.metrics.add(name="h")
        hist.histogram.data_points.add(time_unix_nano=NOW_NS, count=1)
        status, _, payload = ing.post("/v1/metrics", req.SerializeToString())
        assert status == 200
        partial = ExportMetricsServiceResponse.FromString(payload).partial_success
        assert partial.rejected_data_points == 5
        for reason in ("NaN or infinite", "no value", "summary has no table", "no histogram signal"):
            assert reason in partial.error_message, partial.error_message

        # The same refusals in OTLP/JSON (NaN as the JSON string "NaN"), answered in JSON.
        doc = {
            "resourceMetrics": [
                {
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": "gj",
                                    "gauge": {
                                        "dataPoints": [
                                            {"timeUnixNano": str(NOW_NS), "asDouble": "NaN"},
                                            {"timeUnixNano": str(NOW_NS), "asInt": "9"},
                                        ]
                                    },
                                }
                            ]
                        }
                    ]
                }
            ]
        }
        status, headers, payload = ing.post("/v1/metrics", json.dumps(doc).encode(), "application/json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(payload)["partialSuccess"]["rejectedDataPoints"] == "1"

        # A log record with neither time lands at the time the receiver got it (not on 1970-01-01).
        untimed = ExportLogsServiceRequest()
        untimed.resource_logs.add().scope_logs.add().log_records.add().body.string_value = "untimed"
        before = time.time_ns() // 1000
        status, _, _ = ing.post("/v1/logs", untimed.SerializeToString())
        after = time.time_ns() // 1000
        assert status == 200

        log_rows = ing.rows("logs")
        stamped = next(r for r in log_rows if r["body"] == "untimed")
        assert before <= micros(stamped["timestamp"]) <= after
        assert before // 1000 <= stamped["observed_timestamp"] <= after // 1000
        assert stamped["service_name"] == "unknown_service" and stamped["severity_text"] == "UNSPECIFIED"
        logs = sorted(r["body"] for r in log_rows if r["body"] != "untimed")
        gauges = sorted((r["metric_name"], r["value"]) for r in ing.rows("gauge"))
        sums = [(r["metric_name"], r["value"]) for r in ing.rows("sum")]
    assert logs == ["small-1", "small-2"]
    assert gauges == [("g", 1.5), ("gj", 9.0)]
    assert sums == [("s", 7.0)]
