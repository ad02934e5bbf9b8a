"""Every AWS call: identified, authenticated, counted, gated, then answered by our handlers or by moto.

A request is identified from the botocore models (protocol.py), its SigV4 signature checked (auth.py),
counted (calls.py), offered to the gates (registry.py: an injected fault may refuse it) and to our
handlers (registry.py), and otherwise forwarded to moto's server-mode app. ``dispatch`` is also the way in
for a front that identifies its own requests (the S3 Tables Iceberg REST endpoint).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from emulator.core import auth, calls, protocol, registry, wsgi
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse

log = logging.getLogger("emulator")

_moto_lock = threading.Lock()
_moto: Any = None


def moto_app() -> Any:
    """moto's server-mode WSGI app, made once per process (moto's backends are process-wide too)."""
    global _moto
    with _moto_lock:
        if _moto is None:
            from moto.moto_server import werkzeug_app
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            # moto answers every origin's CORS preflight ("*"): a page anywhere could then call the local
            # AWS with its well-known credentials. No CORS here; foreign Origins are refused (guard.py).
            werkzeug_app.DISABLE_GLOBAL_CORS = True
            _moto = DomainDispatcherApplication(create_backend_app)
        return _moto


def reset_moto() -> None:
    """moto's own backends: every service's state that we did not take over."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


registry.register_reset(reset_moto, registry.RESET_BACKENDS)


def send(
    start_response: wsgi.StartResponse, resp: OverrideResponse, ident: protocol.Identified | None
) -> Iterable[bytes]:
    """The answer, its error in the request's wire format (an unidentified request's as S3's)."""
    if ident is None:
        return wsgi.send(start_response, resp)
    return wsgi.send(start_response, resp, ident.service, ident.protocol)


def handle(environ: wsgi.Environ, start_response: wsgi.StartResponse) -> Iterable[bytes]:
    """The AWS API: whatever no mount of the app claims."""
    body = wsgi.read_body(environ)
    ident = protocol.identify(environ, body)
    service, proto = (ident.service, ident.protocol) if ident else ("s3", "rest-xml")
    refusal = auth.check(environ, body, proto, s3=service == "s3")
    if refusal is not None:
        if ident is not None:
            calls.record(ident.service, ident.operation)
        refused = OverrideResponse(refusal.status, error=(refusal.code, refusal.message))
        return send(start_response, refused, ident)
    if ident is None:
        return send(start_response, forward(environ, body), None)
    return send(start_response, dispatch(environ, body, ident), ident)


def dispatch(
    environ: wsgi.Environ,
    body: bytes,
    ident: protocol.Identified,
    own: Callable[[OverrideRequest], OverrideResponse] | None = None,
) -> OverrideResponse:
    """Count, ask the gates, offer the request to our handlers; then ``own`` answers it (an operation moto
    does not know at all), or moto does."""
    calls.record(ident.service, ident.operation)
    refused = registry.run_gates(ident.service, ident.operation)
    if refused is not None:
        return refused
    req = OverrideRequest(
        service=ident.service,
        operation=ident.operation,
        region=ident.region,
        account_id=auth.account_for(ident.access_key),
        protocol=ident.protocol,
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO", "/"),
        headers=wsgi.request_headers(environ),
        raw=body,
        body=protocol.parse_body(ident, body),
        query=wsgi.query(environ),
        forward=lambda: forward(environ, body),
    )
    try:
        for handler in registry.handlers_for(ident.service, ident.operation):
            result = handler(req)
            if result is not None:
                return result
        if own is not None:
            return own(req)
    except AwsError as exc:
        return OverrideResponse(status=exc.status, error=(exc.code, exc.message))
    except Exception as exc:  # an emulator bug must still answer like AWS, and leave a trace
        log.exception("override %s.%s failed", ident.service, ident.operation)
        return OverrideResponse(status=500, error=("InternalFailure", f"emulator error: {exc}"))
    return forward(environ, body)


def forward(environ: wsgi.Environ, body: bytes) -> OverrideResponse:
    """Run the request through moto and capture its response."""
    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(body)
    env["CONTENT_LENGTH"] = str(len(body))
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = headers
        return lambda _data: None

    chunks = moto_app()(env, capture)
    try:
        data = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    hdrs: dict[str, str] = {}
    for key, value in captured.get("headers", []):
        if key.lower() in ("content-length", "transfer-encoding"):
            continue
        hdrs[key] = value
    return OverrideResponse(status=captured.get("status", 500), body=data, headers=hdrs)
