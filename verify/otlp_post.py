"""One OTLP/HTTP protobuf request per signal, and posting it to the env's Function URL as a client would.

Shared by `pytest verify/` (tests against a deployed env) and the end-to-end tests: the request carries a
run id as `service.instance.id` so its rows are found among any others; the post authenticates with the
bearer token (ingest.auth token) or a SigV4 signature for service `lambda` (ingest.auth iam), as the
Collector's sigv4auth extension does.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lake.signals import SIGNALS, Signal, signal_of

# signal -> the OTLP/HTTP path its request goes to (lake/signals.py)
PATHS = {s.name: s.path for s in SIGNALS}
PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def _resource(res: Any, run_id: str) -> None:
    for key, value in (("service.name", "otlp2pipeline-verify"), ("service.instance.id", run_id)):
        res.attributes.add(key=key).value.string_value = value


def _sum(metric: Any, now: int) -> None:
    metric.sum.aggregation_temporality, metric.sum.is_monotonic = 2, True
    metric.sum.data_points.add(time_unix_nano=now, start_time_unix_nano=now - 1, as_double=1.0)


def _gauge(metric: Any, now: int) -> None:
    metric.gauge.data_points.add(time_unix_nano=now, as_double=2.5)


def _histogram(metric: Any, now: int) -> None:
    metric.histogram.aggregation_temporality = 2
    metric.histogram.data_points.add(
        time_unix_nano=now, count=2, sum=3.0, bucket_counts=[1, 1], explicit_bounds=[1.0]
    )


def _exponential_histogram(metric: Any, now: int) -> None:
    metric.exponential_histogram.aggregation_temporality = 2
    point = metric.exponential_histogram.data_points.add(time_unix_nano=now, count=2, sum=3.0, scale=1)
    point.positive.offset = 0
    point.positive.bucket_counts.extend([1, 1])


# The Metric's data field (a signal's `metric` in lake/signals.py) -> one data point of it.
METRIC_POINTS: dict[str, Callable[[Any, int], None]] = {
    "sum": _sum,
    "gauge": _gauge,
    "histogram": _histogram,
    "exponential_histogram": _exponential_histogram,
}


def _metric(signal: Signal, metric: Any, now: int) -> None:
    build = METRIC_POINTS.get(signal.metric or "")
    if build is None:
        raise ValueError(
            f"signal {signal.name}: no request for metric data {signal.metric!r}: add one to METRIC_POINTS"
        )
    metric.name, metric.unit = f"otlp2pipeline.verify.{signal.name}", "1"
    build(metric, now)


def request(signal: str, run_id: str) -> bytes:
    """A protobuf Export*ServiceRequest with exactly one row for `signal`; an unknown signal or metric
    data field raises (KeyError, ValueError)."""
    sig = signal_of(signal)
    now = time.time_ns()
    if sig.path == "v1/logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

        logs = ExportLogsServiceRequest()
        rl = logs.resource_logs.add()
        _resource(rl.resource, run_id)
        record = rl.scope_logs.add().log_records.add(time_unix_nano=now, severity_number=9)
        record.body.string_value = f"verify {run_id}"
        return bytes(logs.SerializeToString())
    if sig.path == "v1/traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        spans = ExportTraceServiceRequest()
        rs = spans.resource_spans.add()
        _resource(rs.resource, run_id)
        span = rs.scope_spans.add().spans.add(name="verify", kind=2)
        span.trace_id, span.span_id = os.urandom(16), os.urandom(8)
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1_000_000
        return bytes(spans.SerializeToString())
    if sig.path != "v1/metrics":
        raise ValueError(f"signal {sig.name}: no request for OTLP path {sig.path!r}")
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    metrics = ExportMetricsServiceRequest()
    rm = metrics.resource_metrics.add()
    _resource(rm.resource, run_id)
    _metric(sig, rm.scope_metrics.add().metrics.add(), now)
    return bytes(metrics.SerializeToString())


def sigv4_headers(
    url: str, body: bytes, headers: dict[str, str], credentials: Any, region: str
) -> dict[str, str]:
    """The request's headers with a SigV4 signature for service `lambda` (botocore's SigV4Auth)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    req = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, "lambda", region).add_auth(req)
    return dict(req.headers.items())


def post(
    endpoint: str,
    path: str,
    body: bytes,
    *,
    token: str | None = None,
    sign: tuple[Any, str] | None = None,
    authorization: str | None = None,
    content_type: str = PROTOBUF,
    timeout: float = 60.0,
) -> Answer:
    """POST `body` to `endpoint` + `path`; `token` adds the bearer header (`authorization` any other
    value), `sign=(credentials, region)` signs it. Any HTTP status is an answer (no exception)."""
    url = endpoint.rstrip("/") + "/" + path.lstrip("/")
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    if sign is not None:
        headers = sigv4_headers(url, body, headers, sign[0], sign[1])
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Answer(resp.status, resp.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read())


# The statuses an OTLP exporter sends a request again for (OTLP/HTTP "Retryable Response Codes").
RETRYABLE = (429, 502, 503, 504)


def export(endpoint: str, path: str, body: bytes, *, deadline_s: float = 60.0, **kwargs: Any) -> Answer:
    """POST as an OTLP exporter does: a retryable answer is sent again with backoff (the first wait 1 s,
    the receiver's Retry-After) until an answer that is not retryable, or the deadline; the last answer."""
    from tasks.polling import backoff_delays, poll_until

    answer, _ = poll_until(
        lambda: post(endpoint, path, body, **kwargs),
        lambda a: a.status not in RETRYABLE,
        backoff_delays(deadline_s, first=1.0),
    )
    return answer
