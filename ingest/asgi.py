"""The receiver as an ASGI application: uvicorn (ingest/server.py) speaks HTTP/1.1 through h11, and this
reads each request's body under the receiver's limits and hands it to `Receiver.handle` on a worker thread.

What it adds to the Receiver, all before or while the body arrives:
- An answer that needs no body (health, 401, 404, 405, 415, and 413 for a declared length over the limit)
  goes out before any of it is read: a client that sent `Expect: 100-continue` never sends it.
- At most `Limits.concurrency` requests are read and decoded at once. A request that finds no free slot
  within `queue_seconds` gets 503 with Retry-After, never a reset connection.
- The body is counted as it streams in, chunked or not: past `max_body_bytes`, 413 at once. No body bytes
  for `read_timeout_seconds`: 408. A body that ends before its end (a half-close, a broken chunk): 400.
  Nothing of such a request is handed on.
- An answer given before the whole body was read closes the connection, after reading and dropping up to
  `drain_bytes` of the rest (for `drain_seconds` at most): a client that writes its whole body before it
  reads (urllib, most SDK exporters) then gets the answer, not a broken pipe it would retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ingest.app import RETRY_AFTER_S, Receiver, Response, log_line
from lake.deadline import Deadline

MIB = 1024 * 1024
# Where the server (ingest/server.py) tells the application that the body ended before its end: a key of
# the request's scope["extensions"], holding the message for the 400.
BODY_ERROR = "otlp2pipeline.body_error"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """How much the local server takes on at once, and how long it waits (docs/ingest.md)."""

    concurrency: int = 8  # requests read and decoded at once; each holds its body, message and rows
    queue_seconds: float = 5.0  # a request waits this long for a free slot, then gets 503
    read_timeout_seconds: float = 30.0  # no body bytes for this long: 408
    keep_alive_seconds: int = 30  # an idle connection (or one whose request head stalls) is closed then
    max_connections: int = 512  # open connections; past it uvicorn answers 503 itself
    backlog: int = 1024  # the listen queue (the kernel caps it at net.core.somaxconn)
    drain_bytes: int = 64 * MIB  # after an early answer, this much of the unread body is read and dropped
    drain_seconds: float = 10.0


class _Refused(Exception):
    """The body cannot be taken: answer `status` with `message`; `drain` when the client may still be
    sending (read and drop the rest before closing)."""

    def __init__(self, status: int, message: str, drain: bool) -> None:
        super().__init__(message)
        self.status, self.message, self.drain = status, message, drain


class _Gone(Exception):
    """The client closed the connection before its body ended: there is nobody to answer."""


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    length: int | None  # the declared Content-Length; None when chunked or absent
    has_body: bool
    deadline: Deadline  # the request's one deadline, from its arrival (Settings.deadline_s)
    complete: bool = False  # the whole body was read

    @classmethod
    def of(cls, scope: Scope, deadline_s: float) -> _Request:
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        chunked = "transfer-encoding" in headers
        length = None if chunked else int(headers.get("content-length") or 0)  # h11 checked it
        return cls(
            method=str(scope["method"]).upper(),
            path=str(scope["path"]),  # never the query string
            headers=headers,
            length=length,
            has_body=chunked or bool(length),
            deadline=Deadline.after(deadline_s),
        )


class ReceiverApp:
    """One ASGI application per server: the Receiver, its limits, and where the request lines go."""

    def __init__(self, receiver: Receiver, limits: Limits, log: Callable[[str], None]) -> None:
        self.receiver = receiver
        self.limits = limits
        self.log = log
        self._slots: asyncio.Semaphore | None = None  # made on the server's loop, at the first request
        self._pool = ThreadPoolExecutor(max_workers=limits.concurrency, thread_name_prefix="ingest-request")

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.monotonic()
        request = _Request.of(scope, self.receiver.settings.deadline_s)
        drain = True  # an answer before the body's end: the client may still be sending it
        try:
            response = await self._respond(request, scope, receive)
        except _Refused as refused:
            extra = {"Retry-After": str(RETRY_AFTER_S)} if refused.status == 503 else None
            response = self.receiver.refuse(refused.status, refused.message, request.headers, extra)
            drain = refused.drain
        except _Gone:
            millis = (time.monotonic() - started) * 1000
            self.log(
                f"{_stamp()} {request.method} {request.path} status=- {millis:.0f}ms (the client closed "
                "the connection before the body's end: nothing was handed on)"
            )
            return
        except Exception as exc:  # a bug: answered and logged as one line, the server keeps serving
            message = f"internal error: {type(exc).__name__}: {exc}"
            response = self.receiver.refuse(500, message, request.headers)
        close = request.has_body and not request.complete
        self.log(log_line(request.method, request.path, response, (time.monotonic() - started) * 1000))
        await _answer(send, response, close)
        if close:
            if drain:
                await self._drain(receive)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _respond(self, request: _Request, scope: Scope, receive: Receive) -> Response:
        early = self.receiver.before_body(request.method, request.path, request.headers, request.length)
        if early is not None:
            return early
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.concurrency)
        try:
            async with asyncio.timeout(self.limits.queue_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise _Refused(
                503,
                f"the receiver is busy ({self.limits.concurrency} requests in progress): retry",
                drain=True,
            ) from None
        try:
            body = await self._read(request, scope, receive)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool,
                self.receiver.handle,
                request.method,
                request.path,
                request.headers,
                body,
                request.deadline,
            )
        finally:
            self._slots.release()

    async def _read(self, request: _Request, scope: Scope, receive: Receive) -> bytes:
        """The whole body, counted against the limit as it arrives."""
        limit = self.receiver.settings.max_body_bytes
        # One growing buffer, not a list of chunks joined at the end: a large one is grown in place (mremap)
        # and returned to the system once copied, where the chunks would stay behind as a heap's free space.
        buffer = bytearray()
        size = 0
        while True:
            try:
                async with asyncio.timeout(self.limits.read_timeout_seconds):
                    message = await receive()
            except TimeoutError:
                raise _Refused(
                    408,
                    f"no request body bytes arrived for {self.limits.read_timeout_seconds:g}s "
                    f"(after {size} bytes): send the request again",
                    drain=False,
                ) from None
            broken = (scope.get("extensions") or {}).get(BODY_ERROR)
            if broken:
                raise _Refused(400, str(broken), drain=False)
            if message["type"] != "http.request":
                raise _Gone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                why = f"request body exceeds the limit of {limit} bytes (more than {size} sent)"
                raise _Refused(413, why, drain=True)
            buffer += chunk
            if not message.get("more_body", False):
                request.complete = True
                return bytes(buffer)

    async def _drain(self, receive: Receive) -> None:
        """Read and drop what is left of a body answered early, until its end, the client closing, or the
        drain's byte or time limit."""
        left = self.limits.drain_bytes
        try:
            async with asyncio.timeout(self.limits.drain_seconds):
                while left > 0:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    left -= len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
        except TimeoutError:
            return


async def _answer(send: Send, response: Response, close: bool) -> None:
    """Status, headers and the whole body; with `close`, `Connection: close` and the response left open
    (more_body) until the caller has drained the request, so that h11 closes the connection only then."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": close})


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
