"""The receiver's core: one OTLP/HTTP request in, one response out, with no server around it.

`Receiver.handle(method, path, headers, body, deadline) -> Response` is all a Lambda handler needs to call;
a server (ingest/asgi.py) also asks `before_body` first, to answer what needs no body before reading it,
and `refuse` for what it answers on its own (a stalled, short or over-limit body, no free slot). Statuses
follow the OTLP/HTTP specification (otlp-mapping.md): 200 with partial_success for refused items, 400 for
what no retry fixes, 401, 404, 405, 408, 413 (over the body or the item limit), 415, and 503 with
Retry-After when the rows could not be handed to Firehose by the request's one deadline or the server is
busy. It never answers 200 for rows that were not handed on.
`GET /_ingest/health` tells anyone that the receiver is alive; its counts only to a caller that may send.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingest import decode, slices
from ingest.deliver import Batcher, Deliver, Delivery
from ingest.mapping import Received, Rows
from lake.deadline import Deadline

HEALTH_PATH = "/_ingest/health"
RETRY_AFTER_S = 1
# Items (spans, log records, data points) one request may hold: each becomes a row, so this bounds the
# work of a request whatever its size on the wire (a few KiB of gzip can hold 500,000 empty records).
DEFAULT_MAX_ROWS = 50_000
DEFAULT_DEADLINE_S = 30.0
# google.rpc.Status codes of the answers a server gives on its own (Receiver.refuse).
_RPC_CODES = {
    400: decode.RPC_INVALID_ARGUMENT,
    408: 4,  # DEADLINE_EXCEEDED
    413: decode.RPC_RESOURCE_EXHAUSTED,
    500: 13,  # INTERNAL
    503: decode.RPC_UNAVAILABLE,
}


class Token(Protocol):
    """A bearer token that may change while the receiver runs (the Lambda's, from Secrets Manager)."""

    def matches(self, credential: str) -> bool: ...


@dataclass(frozen=True)
class Settings:
    signals: tuple[str, ...]
    max_body_bytes: int
    token: str | Token | None = field(default=None, repr=False)
    max_rows: int = DEFAULT_MAX_ROWS
    deadline_s: float = DEFAULT_DEADLINE_S  # a request's one deadline, when its caller gives none


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    # For the request log line and the stats: rows handed to Firehose, per table.
    format: str = "-"
    rows: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    note: str = ""


@dataclass
class Stats:
    """Since the receiver started: rows handed on per table, requests per status."""

    started: float = field(default_factory=time.time)
    rows: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, response: Response) -> None:
        with self._lock:
            self.statuses[response.status] += 1
            self.refused += response.refused
            self.rows.update(response.rows)  # rows handed on, whatever the status

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "ok",
                "started": self.started,
                "rows": dict(self.rows),
                "rows_total": sum(self.rows.values()),
                "refused": self.refused,
                "requests": {str(k): v for k, v in sorted(self.statuses.items())},
            }


def _matches(token: str | Token, credential: str) -> bool:
    if isinstance(token, str):
        return hmac.compare_digest(credential.encode(), token.encode())  # constant time
    return token.matches(credential)


def _lower(headers: dict[str, str] | Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(headers).items()}


class Receiver:
    def __init__(self, settings: Settings, deliver: Deliver, clock: Any = time.time) -> None:
        self.settings = settings
        self.deliver = deliver
        self.clock = clock
        self.stats = Stats()

    def handle(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | Any,
        body: bytes,
        deadline: Deadline | None = None,
    ) -> Response:
        """One request's answer; `deadline` (default: `settings.deadline_s` from now) bounds all of it."""
        deadline = deadline or Deadline.after(self.settings.deadline_s)
        response = self._handle(method.upper(), path.split("?", 1)[0], _lower(headers), body, deadline)
        if path != HEALTH_PATH:
            self.stats.add(response)
        return response

    def _error(
        self, status: int, code: int, message: str, json_body: bool, extra: dict[str, str] | None = None
    ) -> Response:
        ctype = decode.JSON if json_body else decode.PROTOBUF
        return Response(
            status,
            {"Content-Type": ctype, **(extra or {})},
            decode.encode_status(code, message, json_body),
            note=message,
        )

    def before_body(
        self, method: str, path: str, headers: dict[str, str] | Any, length: int | None
    ) -> Response | None:
        """The answer a request gets before its body is read, or None when the body is needed: health,
        404, 405, 401, 415, and 413 for a declared `length` over the limit (None: not declared, chunked)."""
        method, path, low = method.upper(), path.split("?", 1)[0], _lower(headers)
        if path == HEALTH_PATH and method == "GET":
            return self._health(low)
        media = decode.media_type(low.get("content-type"))
        response = self._check(method, path, low, media)
        if response is None and length is not None and length > self.settings.max_body_bytes:
            response = self._error(
                413,
                decode.RPC_RESOURCE_EXHAUSTED,
                f"request body of {length} bytes exceeds the limit of {self.settings.max_body_bytes} bytes",
                media.is_json if media else False,
            )
        if response is not None:
            self.stats.add(response)
        return response

    def refuse(
        self, status: int, message: str, headers: dict[str, str] | Any, extra: dict[str, str] | None = None
    ) -> Response:
        """An answer the server gives on its own, in the request's format and counted like the others:
        400 (the body ended early), 408 (it stopped arriving), 413 (it passed the limit), 503 (busy), and
        500 for a request that raised."""
        media = decode.media_type(_lower(headers).get("content-type"))
        response = self._error(status, _RPC_CODES[status], message, media.is_json if media else False, extra)
        self.stats.add(response)
        return response

    def _authorized(self, headers: dict[str, str]) -> bool:
        """The request carries the configured bearer token (compared in constant time), or none is set."""
        token = self.settings.token
        if token is None:
            return True
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and _matches(token, credential.strip())

    def _health(self, headers: dict[str, str]) -> Response:
        """Liveness for anyone (a load balancer, `doit ingest`'s readiness poll); the counts only for a
        caller that may send, since they tell what flows through the receiver."""
        doc = self.stats.to_dict() if self._authorized(headers) else {"status": "ok"}
        headers = {"Content-Type": decode.JSON, "Cache-Control": "no-store"}
        return Response(200, headers, json.dumps(doc).encode())

    def _check(
        self, method: str, path: str, headers: dict[str, str], media: decode.MediaType | None
    ) -> Response | None:
        """Path, method, token and media type, in that order; None when the request may be read."""
        json_body = media.is_json if media else False
        if path not in decode.SIGNAL_PATHS:
            return self._error(404, decode.RPC_NOT_FOUND, f"no OTLP endpoint at {path}", json_body)
        if method != "POST":
            return self._error(
                405,
                decode.RPC_UNIMPLEMENTED,
                f"{method} is not allowed: use POST",
                json_body,
                {"Allow": "POST"},
            )
        if not self._authorized(headers):
            return self._error(
                401,
                decode.RPC_UNAUTHENTICATED,
                "a valid bearer token is required (Authorization: Bearer TOKEN)",
                json_body,
                {"WWW-Authenticate": 'Bearer realm="otlp"'},
            )
        if media is None:
            return self._error(
                415,
                decode.RPC_INVALID_ARGUMENT,
                f"Content-Type {headers.get('content-type', '')!r} is not supported: "
                f"use {decode.PROTOBUF} or {decode.JSON}",
                False,
            )
        return None

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, deadline: Deadline
    ) -> Response:
        if path == HEALTH_PATH and method == "GET":
            return self._health(headers)
        media = decode.media_type(headers.get("content-type"))
        answer = self._check(method, path, headers, media)
        if answer is not None or media is None:
            return answer or self._error(415, decode.RPC_INVALID_ARGUMENT, "unsupported media type", False)
        json_body = media.is_json
        fmt = "json" if media.is_json else "protobuf"
        now = self.clock()
        rx = Received(micros=int(now * 1_000_000), millis=int(now * 1000))
        try:
            raw = decode.decompress(body, headers.get("content-encoding"), self.settings.max_body_bytes)
            checked = slices.check(path, media, raw, max_rows=self.settings.max_rows)  # before any is sent
        except decode.TooLarge as exc:
            return self._error(413, decode.RPC_RESOURCE_EXHAUSTED, str(exc), json_body)
        except decode.BadRequest as exc:
            return self._error(400, decode.RPC_INVALID_ARGUMENT, str(exc), json_body)
        counts, refused, delivery = self._send(checked, rx, deadline)
        if not delivery.ok:
            status = 503  # Firehose's own throttle is ServiceUnavailableException ("Slow down.")
            codes = ", ".join(f"{c} x{n}" for c, n in sorted(delivery.errors.items()))
            total = sum(counts.values())
            message = f"{delivery.failed} of {total} rows could not be handed to Firehose ({codes}): retry"
            resp = self._error(
                status,
                decode.RPC_UNAVAILABLE,
                message,
                json_body,
                {"Retry-After": str(RETRY_AFTER_S)},
            )
            handed = {s: n for s, n in delivery.sent.items() if n}  # what did reach Firehose
            return Response(resp.status, resp.headers, resp.body, fmt, handed, refused.rejected, message)
        payload = decode.encode_response(path, media, refused.rejected, refused.error_message)
        return Response(
            200,
            {"Content-Type": media.kind},
            payload,
            fmt,
            dict(counts),
            refused.rejected,
            refused.error_message,
        )

    def _send(
        self, checked: slices.Checked, rx: Received, deadline: Deadline
    ) -> tuple[Counter[str], Rows, Delivery]:
        """Each slice's rows made and handed on a whole batch at a time, so a request never holds all its
        rows: the rows per table, what was refused (with why), and what the delivery did."""
        counts: Counter[str] = Counter()
        refused = Rows()
        delivery = Delivery()
        batcher = Batcher()
        for part in checked.rows(self.settings.signals, rx):
            refused.rejected += part.rejected
            refused.reasons.update(part.reasons)
            for signal, records in part.records.items():
                counts[signal] += len(records)
                for batch in batcher.add(signal, records):
                    delivery.add(self.deliver({signal: batch}, deadline))
            del part
        rest = batcher.rest()
        if rest:  # the last batch of each table, beside each other
            delivery.add(self.deliver(rest, deadline))
        return counts, refused, delivery


def unavailable(headers: dict[str, str] | Any, message: str) -> Response:
    """503 with Retry-After in the request's format, for a receiver that cannot serve yet (its cold start
    failed in a way a retry may fix): the exporter sends the request again."""
    media = decode.media_type(_lower(headers).get("content-type"))
    json_body = media.is_json if media else False
    return Response(
        503,
        {"Content-Type": decode.JSON if json_body else decode.PROTOBUF, "Retry-After": str(RETRY_AFTER_S)},
        decode.encode_status(decode.RPC_UNAVAILABLE, message, json_body),
        note=message,
    )


def log_line(method: str, path: str, response: Response, millis: float) -> str:
    """One line per request: path, format, rows per table, refused, status, milliseconds. Never the query
    string (a token may be in it) nor any header."""
    path = path.split("?", 1)[0]
    rows = ",".join(f"{k}={v}" for k, v in sorted(response.rows.items())) or "-"
    note = f" ({response.note})" if response.note and response.status != 200 else ""
    return (
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {method} {path} format={response.format} "
        f"rows={rows} refused={response.refused} status={response.status} {millis:.0f}ms{note}"
    )
