"""The receiver's HTTP server on its own (no AWS): an over-limit body is answered with 413, and a client
that writes its whole body before it reads still gets that 413, not a broken pipe."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.app import Receiver, Settings
from ingest.server import ReceiverServer

MIB = 1024 * 1024


class _NoDelivery:
    """Fails the test if anything is handed on."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an over-limit request handed rows on")


@pytest.fixture
def server() -> Iterator[ReceiverServer]:
    receiver = Receiver(Settings(signals=("traces",), max_body_bytes=MIB), _NoDelivery())
    srv = ReceiverServer(receiver, port=0, log=io.StringIO()).start()
    try:
        yield srv
    finally:
        srv.stop()


def _post_whole_body_then_read(port: int, body_len: int, sent_len: int | None = None) -> bytes:
    """POST as urllib does: all of the body first, then read the answer."""
    head = (
        f"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
        f"Content-Length: {body_len}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + b"\0" * (body_len if sent_len is None else sent_len))
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_body_over_the_limit_written_whole_gets_413_not_a_broken_pipe(server: ReceiverServer) -> None:
    # 8 MiB is more than loopback's socket buffers hold: if the server closed without reading, sendall
    # would fail with EPIPE / ECONNRESET.
    answer = _post_whole_body_then_read(server.port, 8 * MIB)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert server.receiver.stats.statuses[413] == 1


def test_an_over_limit_content_length_with_no_body_is_answered_at_once(
    server: ReceiverServer,
) -> None:
    answer = _post_whole_body_then_read(server.port, 10 * 1024 * MIB, sent_len=0)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
