"""The local receiver under more requests than it takes at once (503 with Retry-After, no reset), and what
it shows: health without the token is liveness only; no token or query string reaches a log line; the
log files `doit ingest` and the emulator write are the owner's alone (0600)."""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ingest import lambda_handler
from ingest.app import Receiver, Settings
from ingest.asgi import Limits
from ingest.deliver import Delivery
from ingest.server import ReceiverServer
from lake.deadline import Deadline
from tasks.emulator_ctl import private_log
from tests.unit.ingest.receiver_helpers import TOKEN, Recorder, serve, spans
from tests.waiting import wait_for

CLIENTS = 32


class Gate(Recorder):
    """A delivery that holds every request until it is opened."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.waiting = 0

    def __call__(self, records: dict[str, list[bytes]], deadline: Deadline) -> Delivery:
        with self.lock:
            self.waiting += 1
        assert self.open.wait(60), "the gate was never opened"
        return super().__call__(records, deadline)


def _post(port: int, body: bytes, outcomes: list[Any], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        resp = conn.getresponse()
        resp.read()
        outcome: Any = (resp.status, resp.getheader("Retry-After"))
    except OSError as exc:  # a reset, a broken pipe: what a full server must never do
        outcome = exc
    finally:
        conn.close()
    with lock:
        outcomes.append(outcome)


def test_requests_past_the_concurrency_limit_get_503_with_retry_after_and_no_reset() -> None:
    gate = Gate()
    receiver = Receiver(Settings(signals=("traces",), max_body_bytes=1024 * 1024), gate)
    limits = Limits(concurrency=2, queue_seconds=0.3)
    server = ReceiverServer(receiver, port=0, log=io.StringIO(), limits=limits).start()
    outcomes: list[Any] = []
    lock = threading.Lock()
    body = spans(5)
    threads = [
        threading.Thread(target=_post, args=(server.port, body, outcomes, lock)) for _ in range(CLIENTS)
    ]
    try:
        for t in threads:
            t.start()
        # Two requests hold the two slots (stuck in the delivery); every other one waits 0.3 s, then 503.
        wait_for(lambda: len(outcomes) == CLIENTS - 2 and gate.waiting == 2, 60, "the refused requests")
        gate.open.set()
        for t in threads:
            t.join(60)
    finally:
        gate.open.set()
        server.stop()
    resets = [o for o in outcomes if isinstance(o, Exception)]
    assert resets == []
    assert Counter(o[0] for o in outcomes) == {200: 2, 503: CLIENTS - 2}
    assert {o[1] for o in outcomes if o[0] == 503} == {"1"}  # Retry-After, seconds
    assert gate.count == 2 * 5  # only the two admitted requests were handed on
    assert receiver.stats.statuses == {200: 2, 503: CLIENTS - 2}


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_health_without_the_token_is_liveness_only() -> None:
    server, _, _ = serve(token=TOKEN)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        conn.request(
            "POST",
            "/v1/traces",
            spans(3),
            {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {TOKEN}"},
        )
        assert conn.getresponse().status == 200
        conn.close()
        for headers in (None, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
            assert _get(server.port, "/_ingest/health", headers) == (200, {"status": "ok"}), headers
        status, doc = _get(server.port, "/_ingest/health", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and doc["rows_total"] == 3 and doc["requests"] == {"200": 1}
    finally:
        server.stop()


def test_health_shows_counts_to_anyone_when_no_token_is_set() -> None:
    server, _, _ = serve()
    try:
        status, doc = _get(server.port, "/_ingest/health")
        assert status == 200 and doc["status"] == "ok" and doc["rows_total"] == 0
    finally:
        server.stop()


def test_health_through_the_lambda_handler_is_liveness_only_without_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = Receiver(Settings(signals=("traces",), max_body_bytes=1024 * 1024, token=TOKEN), Recorder())
    monkeypatch.setattr(lambda_handler, "_RECEIVER", receiver)

    def health(headers: dict[str, str]) -> dict[str, Any]:
        event = {
            "version": "2.0",
            "rawPath": "/_ingest/health",
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {"http": {"method": "GET", "path": "/_ingest/health"}},
            "isBase64Encoded": False,
        }
        out = lambda_handler.handler(event, None)
        assert out["statusCode"] == 200
        return dict(json.loads(out["body"]))

    assert health({}) == {"status": "ok"}
    assert health({"authorization": "Bearer not-the-token-0123456789"}) == {"status": "ok"}
    assert health({"authorization": f"Bearer {TOKEN}"})["rows_total"] == 0


def test_no_token_or_query_string_reaches_the_log() -> None:
    server, recorder, log = serve(token=TOKEN)
    secret = "q-secret-4711"
    try:
        for path, headers in (
            (f"/v1/traces?token={secret}", {"Authorization": f"Bearer {TOKEN}"}),  # 200
            (f"/v1/traces?access_token={secret}", {}),  # 401
            (f"/v1/nowhere?token={secret}", {}),  # 404
        ):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
            conn.request("POST", path, spans(1), {"Content-Type": "application/x-protobuf", **headers})
            conn.getresponse().read()
            conn.close()
        _get(server.port, f"/_ingest/health?token={secret}")
    finally:
        server.stop()
    text = log.getvalue()
    assert "status=200" in text and "status=401" in text and "status=404" in text
    assert secret not in text and TOKEN not in text and "?" not in text
    assert recorder.count == 1


def test_private_log_is_created_0600_and_tightens_an_existing_one(tmp_path: Path) -> None:
    fresh = tmp_path / "state" / "ingest.log"
    with private_log(fresh) as log:
        log.write(b"one\n")
    assert fresh.stat().st_mode & 0o777 == 0o600
    old = tmp_path / "emulator.log"
    old.write_text("before\n")
    old.chmod(0o644)
    with private_log(old) as log:
        log.write(b"after\n")
    assert old.stat().st_mode & 0o777 == 0o600
    assert old.read_text() == "before\nafter\n"  # appended, not truncated
