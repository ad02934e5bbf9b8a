"""One deadline per request: with Firehose stalled by the local AWS's faults, the answer is 503 with
Retry-After by the deadline (plus a small slack), never 200 and never a Lambda timeout; and a retry then
duplicates at most the rows Firehose had accepted.

Both paths run the one Receiver: the local server (the deadline is `ingest.sender_deadline_seconds`),
the Lambda handler in this process (the invocation's remaining time less a margin), and the deployed
function behind its Function URL on the local AWS.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest import lambda_handler
from tasks.records import new_run_id
from tests.cli.ingest.ingest_helpers import deploy, receiver
from tests.cli.ingest.lambda_e2e_helpers import Deployed, deployed
from tests.cli.ingest.test_lambda_handler import url_event
from verify.otlp_post import post

DEADLINE_S = 3
# What the answer may take beyond the deadline: decoding, mapping and writing the answer of a few hundred
# spans, on a machine shared with other tests. A stalled call is never waited for past the deadline.
SLACK_S = 2.0
NOW_NS = 1_767_225_600_000_000_000
STALLS: dict[str, dict[str, Any]] = {
    "every put hangs": {"latency": {"firehose_put_seconds": 600}},
    "every call throttled": {"throttle": {"fraction": 1.0, "seed": 1}},
    "every record refused": {"put_record_failures": {"fraction": 1.0, "seed": 1}},
}


def _spans(prefix: str, n: int) -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        span = ss.spans.add(name=f"{prefix}-{i}", start_time_unix_nano=NOW_NS, end_time_unix_nano=NOW_NS + 1)
        span.trace_id, span.span_id = bytes(range(16)), (i + 1).to_bytes(8, "big")
    return req.SerializeToString()


def _post(endpoint: str, body: bytes, timeout: float) -> tuple[int, dict[str, str], float]:
    """POST to /v1/traces; (status, headers with lower-case names, seconds taken). A client timeout fails
    the test."""
    req = urllib.request.Request(
        endpoint + "/v1/traces", data=body, method="POST", headers={"Content-Type": "application/x-protobuf"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        status, headers = exc.code, {k.lower(): v for k, v in exc.headers.items()}
    return status, headers, time.monotonic() - started


@pytest.mark.parametrize("stall", list(STALLS))
def test_local_server_answers_503_by_the_deadline_when_firehose_stalls(emulator, stall):
    cfg = deploy(emulator, signals="traces", **{"ingest.sender_deadline_seconds": str(DEADLINE_S)})
    with receiver(emulator, cfg) as ing:
        emulator.set_faults(STALLS[stall])
        try:
            # 1,200 spans: three batches, so the deadline has to stop more than one call.
            status, headers, took = _post(ing.endpoint, _spans("stalled", 1200), DEADLINE_S + 30)
        finally:
            emulator.clear_faults()  # a stalled put lets go at once
        log = ing.log.getvalue()
    assert (status, headers.get("retry-after")) == (503, "1"), log
    assert took <= DEADLINE_S + SLACK_S, f"answered after {took:.1f}s: {log}"


def test_a_retry_duplicates_at_most_the_rows_firehose_had_accepted(emulator):
    """Nine in ten records refused: some batches' records are accepted before the deadline, the answer is
    503; the exporter's retry of the same request then lands everything, twice only what was accepted."""
    cfg = deploy(emulator, signals="traces", **{"ingest.sender_deadline_seconds": str(DEADLINE_S)})
    body = _spans("retried", 1500)
    with receiver(emulator, cfg) as ing:
        emulator.set_faults({"put_record_failures": {"fraction": 0.9, "seed": 7}})
        status, _, took = _post(ing.endpoint, body, DEADLINE_S + 30)
        accepted = ing.health()["rows"].get("traces", 0)  # what the 503's request handed on
        emulator.clear_faults()
        retry, _, _ = _post(ing.endpoint, body, 60)
        names = Counter(r["span_name"] for r in ing.rows("traces"))
    assert (status, retry) == (503, 200) and took <= DEADLINE_S + SLACK_S
    assert 0 < accepted < 1500
    assert set(names) == {f"retried-{i}" for i in range(1500)}  # nothing lost
    assert sum(names.values()) - 1500 == accepted  # twice: exactly the rows accepted before the 503


class _Context:
    """A Lambda context with `remaining_s` left at its creation (AWS's runtime counts down the same way)."""

    def __init__(self, remaining_s: float) -> None:
        self._end = time.monotonic() + remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))


@pytest.mark.parametrize("stall", list(STALLS))
def test_lambda_handler_answers_503_within_the_invocations_remaining_time(emulator, monkeypatch, stall):
    """The configured deadline is 30 s, but the invocation has 5 s left: the answer comes before it ends
    (remaining time less the margin), where a timeout would make the Function URL answer 502."""
    remaining_s = 5.0
    cfg = deploy(emulator, signals="traces", **{"ingest.enabled": "false"})
    for key, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "OTLP_AUTH": "iam",
        "OTLP_STREAM_TRACES": cfg.stream_name("traces"),
        "OTLP_SENDER_DEADLINE_SECONDS": "30",
    }.items():
        monkeypatch.setenv(key, value)
    lambda_handler.reset()
    lambda_handler.receiver()  # the cold start is not part of the invocation's time
    out: dict[str, Any] = {}
    event = url_event(
        "/v1/traces", _spans("lambda", 1200), headers={"content-type": "application/x-protobuf"}
    )
    emulator.set_faults(STALLS[stall])
    try:
        started = time.monotonic()
        worker = threading.Thread(
            target=lambda: out.update(lambda_handler.handler(event, _Context(remaining_s)))
        )
        worker.start()
        worker.join(remaining_s + 30)
        took = time.monotonic() - started
    finally:
        emulator.clear_faults()
        worker.join(60)
        lambda_handler.reset()
    assert out.get("statusCode") == 503 and out["headers"]["Retry-After"] == "1", out
    assert took <= remaining_s - lambda_handler.ANSWER_MARGIN_S + SLACK_S < remaining_s + 1


@pytest.fixture(scope="module")
def short_deadline_env() -> Iterator[Deployed]:
    """A deployed env whose function has the shortest deadline: its timeout is that plus 10 s."""
    with deployed(**{"ingest.sender_deadline_seconds": "2"}) as env:
        yield env


@pytest.mark.parametrize("stall", ["every put hangs", "every call throttled"])
def test_function_url_answers_503_not_a_timeout_when_firehose_stalls(short_deadline_env, stall):
    env = short_deadline_env
    body = _spans(new_run_id(), 600)
    env.emu.set_faults(STALLS[stall])
    try:
        started = time.monotonic()
        answer = post(env.conn.endpoint, "v1/traces", body, token=env.conn.token, timeout=40)
        took = time.monotonic() - started
    finally:
        env.emu.clear_faults()
    # On a timeout (12 s) the Function URL would have answered 502 and the exporter sent it all again.
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert took <= 2 + SLACK_S, took
