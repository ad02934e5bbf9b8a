"""The receiver as a local HTTP server: uvicorn with its h11 protocol, serving ingest/asgi.py's application.

uvicorn and h11 do HTTP/1.1 (chunked bodies, keep-alive, `Expect: 100-continue`, HTTP/1.0, pipelining);
only the asyncio loop and h11 are used (no uvloop, no httptools), and none of it is in the Lambda zip.
The listening socket is bound here, before uvicorn starts, so the port is known (and a busy one refused)
at once and connections made before the loop runs wait in the backlog. Binds to 127.0.0.1 unless told
otherwise. Limits and timeouts: ingest/asgi.py's `Limits`. An env's receiver is made and served by
tasks/receiver.py (`doit ingest`).
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any, TextIO

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ingest.app import Receiver
from ingest.asgi import BODY_ERROR, Limits, ReceiverApp

DEFAULT_HOST = "127.0.0.1"
SHUTDOWN_GRACE_S = 5  # requests in progress at SIGTERM get this long to answer


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, with two edges it leaves open closed.

    - A client that half-closes its connection once it has sent is still reading. uvicorn closes the
      connection then, so a whole request got no answer, and the application waiting for the rest of a
      short body only saw a disconnect. Here a whole request is answered, then the connection closed; the
      end of a body that is not whole (and a broken chunk, which uvicorn answers with its own plain-text
      400) goes to the application, which answers 400.
    - A connection must send a whole request head within the keep-alive timeout, the first one too
      (uvicorn times out only the wait between requests).
    """

    _body_ended = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_idle_timeout()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_idle_timeout()  # part of a request head: the rest must come in time too

    def _arm_idle_timeout(self) -> None:
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio.Protocol's is bool | None
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            return False  # nothing left to answer, or the answer is out: close, as uvicorn does
        if self.conn.their_state is h11.DONE:  # the whole request came: answer it, then close
            cycle.keep_alive = False
            return True
        if self.conn.their_state is not h11.SEND_BODY:
            return False
        self._body_ended = True
        self.conn.receive_data(b"")
        self.handle_events()  # h11: RemoteProtocolError (the body is short) -> send_400_response
        return True  # keep the connection open for the answer

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_started or self.conn.their_state is not h11.ERROR:
            super().send_400_response(msg)  # a bad request head: uvicorn's own 400
            return
        extensions: dict[str, Any] = cycle.scope.setdefault("extensions", {})
        extensions[BODY_ERROR] = (
            "the request body ended before its end (its Content-Length or the last chunk): send it whole"
            if self._body_ended
            else "the request body's chunked encoding is invalid"
        )
        cycle.message_event.set()


class ReceiverServer:
    """A running receiver: `start()` serves on a thread, `stop()` shuts it down (tests, bench);
    `serve_forever()` serves in the foreground until SIGINT or SIGTERM (`python -m tasks.receiver`)."""

    def __init__(
        self,
        receiver: Receiver,
        host: str = DEFAULT_HOST,
        port: int = 0,
        log: TextIO | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.receiver = receiver
        self.limits = limits or Limits()
        self._log = log or sys.stdout
        self._log_lock = threading.Lock()
        self.app = ReceiverApp(receiver, self.limits, self._write)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(self.limits.backlog)
        except OSError:
            self.socket.close()
            raise
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            http=_Protocol,
            loop="asyncio",
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,  # uvicorn's own warnings go to stderr; request lines come from the app
            access_log=False,  # its access line would carry the query string
            proxy_headers=False,
            server_header=False,
            backlog=self.limits.backlog,
            limit_concurrency=self.limits.max_connections,
            timeout_keep_alive=self.limits.keep_alive_seconds,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def _write(self, line: str) -> None:
        with self._log_lock:
            self._log.write(line + "\n")
            self._log.flush()

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReceiverServer:
        self._thread = threading.Thread(target=self.serve_forever, name="ingest-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()
            self.app.close()

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_GRACE_S + 5)
