"""Reading WSGI requests and writing replies: the one place that knows the WSGI calling convention.

Everything that answers HTTP itself (the dispatcher, the ``/_emulator/`` admin API, the ``/_lambda-url/``
Function URLs, the ``/iceberg/`` REST endpoint) reads its body and writes its reply through these helpers,
so a body is read the same way everywhere (``Content-Length``, or to the end when chunked) and every reply
carries its reason phrase and ``Content-Length``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from emulator.core import protocol
from emulator.core.registry import OverrideResponse

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
# Hop-by-hop headers a reply must not copy from an answer it relays (the server sets its own).
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"})


def reason(status: int) -> str:
    """The status line's reason phrase (``Unknown`` for a code HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def read_body(environ: Environ) -> bytes:
    """The request body: ``Content-Length`` bytes, or everything when the body is chunked."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return bytes(stream.read(int(length)))
        except ValueError:
            return b""
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" or environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


def read_json(environ: Environ) -> Any:
    """The body as JSON (``{}`` when empty); ``ValueError`` when it is not JSON."""
    raw = read_body(environ)
    return json.loads(raw) if raw.strip() else {}


def request_headers(environ: Environ) -> dict[str, str]:
    """The request's headers, lower-case names (``Content-Type`` and ``Content-Length`` included)."""
    out = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            out[name] = str(environ[key])
    return out


def query(environ: Environ) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def reply(
    start_response: StartResponse, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()
) -> Iterable[bytes]:
    """Send ``body`` with ``headers`` (hop-by-hop ones dropped) and its own ``Content-Length``."""
    out = [h for h in headers if h[0].lower() not in HOP_HEADERS]
    out.append(("Content-Length", str(len(body))))
    start_response(f"{status} {reason(status)}", out)
    return [body]


def json_reply(
    start_response: StartResponse, status: int, data: Any, headers: Iterable[tuple[str, str]] = ()
) -> Iterable[bytes]:
    body = json.dumps(data).encode()
    return reply(start_response, status, body, [("Content-Type", "application/json"), *headers])


def message_reply(
    start_response: StartResponse, status: int, message: str, headers: Iterable[tuple[str, str]] = ()
) -> Iterable[bytes]:
    """``{"Message": ...}``: how the local AWS refuses a request itself, and how Function URLs answer."""
    return json_reply(start_response, status, {"Message": message}, headers)


def send(
    start_response: StartResponse, resp: OverrideResponse, service: str = "s3", proto: str = "rest-xml"
) -> Iterable[bytes]:
    """A handler's or moto's answer; an ``error`` is rendered in ``proto``'s wire format for ``service``."""
    status, headers, body = resp.status, dict(resp.headers), resp.body
    if resp.error is not None:
        status, headers, body = protocol.render_error(service, proto, resp.error[0], resp.error[1], status)
    return reply(start_response, status, body, headers.items())
