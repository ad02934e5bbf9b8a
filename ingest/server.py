"""The receiver as a local HTTP server (stdlib ThreadingHTTPServer) around ingest.app.Receiver.

Binds to 127.0.0.1 unless told otherwise. The body is read only when its Content-Length is within the
limit. A larger one is answered with 413 first; then up to DRAIN_LIMIT bytes of it are read and dropped
before the connection closes, because a client that writes its whole body before it reads (urllib, most
SDK exporters) would otherwise get a broken pipe instead of the 413, and retry what no retry fixes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from ingest.app import Receiver, Settings, log_line
from ingest.deliver import FirehoseDelivery

TOKEN_VAR = "OTLP2PIPELINE_INGEST_TOKEN"  # a generated token reaches `python -m ingest` this way, not argv
DEFAULT_HOST = "127.0.0.1"
MIB = 1024 * 1024
DRAIN_LIMIT = 64 * MIB  # past this, an over-limit body is not read: the connection is just closed
DRAIN_TIMEOUT_S = 10.0


def build(config: Any, token: str | None = None) -> tuple[Receiver, FirehoseDelivery]:
    """A Receiver for an env's config (tasks.config.Config), sending through its Firehose streams."""
    from tasks.aws import Clients

    clients = Clients(config)
    delivery = FirehoseDelivery(clients.session, config.endpoint, config.stream_name)
    settings = Settings(
        signals=tuple(config.signals),
        max_body_bytes=config.ingest.max_body_mb * MIB,
        token=token or os.environ.get(TOKEN_VAR) or config.ingest.token,
        max_rows=config.ingest.max_rows,
        deadline_s=float(config.ingest.sender_deadline_seconds),
    )
    return Receiver(settings, delivery), delivery


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        started = time.monotonic()
        receiver = self.server.receiver
        method, path = self.command, self.path
        length_raw = self.headers.get("Content-Length")
        close = False
        if length_raw is None and method == "POST" and self.headers.get("Transfer-Encoding"):
            self._send(411, {"Content-Type": "text/plain"}, b"Content-Length is required\n", True)
            return
        try:
            length = int(length_raw or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(400, {"Content-Type": "text/plain"}, b"bad Content-Length\n", True)
            return
        if length > receiver.settings.max_body_bytes:
            close = True  # the body is not read: the connection cannot be reused
            response = receiver.oversize(method, path, dict(self.headers.items()), length)
        else:
            body = self.rfile.read(length) if length else b""
            response = receiver.handle(method, path, dict(self.headers.items()), body)
        self._send(response.status, response.headers, response.body, close)
        self.server.log(log_line(method, path, response, (time.monotonic() - started) * 1000))
        if close:
            self._drain(length)

    def _drain(self, length: int) -> None:
        """Read and drop an unread body after its answer, so the client can finish writing and read it."""
        left = min(length, DRAIN_LIMIT)
        self.connection.settimeout(DRAIN_TIMEOUT_S)
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, MIB))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return  # the client went away or stalled: the connection closes either way

    def _send(self, status: int, headers: dict[str, str], body: bytes, close: bool) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the receiver writes its own one line per request."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: Receiver, log: TextIO) -> None:
        self.receiver = receiver
        self._log = log
        self._log_lock = threading.Lock()
        super().__init__(address, _Handler)

    def log(self, line: str) -> None:
        with self._log_lock:
            self._log.write(line + "\n")
            self._log.flush()


class ReceiverServer:
    """A running receiver: `start()` serves on a thread, `stop()` shuts it down (tests, bench, __main__)."""

    def __init__(
        self, receiver: Receiver, host: str = DEFAULT_HOST, port: int = 0, log: TextIO | None = None
    ) -> None:
        self.receiver = receiver
        self.httpd = _Server((host, port), receiver, log or sys.stdout)
        self.host = host
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReceiverServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="ingest-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
