"""Shared by tests/unit/ingest/test_receiver_*.py: a local receiver on a free port with a recording delivery
in place of Firehose, requests written byte by byte, and responses read off a raw socket."""

from __future__ import annotations

import io
import socket
import threading
from collections import Counter
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.app import Receiver, Settings
from ingest.asgi import Limits
from ingest.deliver import Delivery
from ingest.server import ReceiverServer
from lake.deadline import Deadline

KIB = 1024
LIMIT = 64 * KIB
NOW_NS = 1_767_225_600_000_000_000
TOKEN = "test-token-0123456789abcdef"


class Recorder:
    """A delivery that keeps what it was handed: signal -> records."""

    def __init__(self) -> None:
        self.records: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    def __call__(self, records: dict[str, list[bytes]], deadline: Deadline) -> Delivery:
        with self.lock:
            for signal, recs in records.items():
                self.records.setdefault(signal, []).extend(recs)
        return Delivery(sent=Counter({s: len(r) for s, r in records.items()}))

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.records.values())


def spans(n: int, name: str = "s") -> bytes:
    req = ExportTraceServiceRequest()
    for i in range(n):  # one resource per span: any prefix that ends between two is a valid request
        span = (
            req.resource_spans.add()
            .scope_spans.add()
            .spans.add(name=f"{name}-{i}", start_time_unix_nano=NOW_NS, end_time_unix_nano=NOW_NS + 1000)
        )
        span.trace_id = bytes(range(1, 17))
        span.span_id = (i + 1).to_bytes(8, "big")
    return req.SerializeToString()


def serve(
    limits: Limits | None = None, token: str | None = None
) -> tuple[ReceiverServer, Recorder, io.StringIO]:
    recorder = Recorder()
    receiver = Receiver(Settings(signals=("traces",), max_body_bytes=LIMIT, token=token), recorder)
    log = io.StringIO()
    return ReceiverServer(receiver, port=0, log=log, limits=limits).start(), recorder, log


def connect(server: ReceiverServer, timeout: float = 20) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def head(path: str = "/v1/traces", method: str = "POST", version: str = "1.1", **headers: Any) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1", "Content-Type: application/x-protobuf"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


class Reader:
    """Responses off one connection, one at a time (status, lower-cased headers, body)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"connection closed before a response head: {self.buf!r}"
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            assert self._fill(), "connection closed inside a response body"
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """The server closed the connection (EOF, nothing more sent)."""
        return not self._fill() and not self.buf
