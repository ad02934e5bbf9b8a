"""The emulator's WSGI layer: admin API, call counting, faults and our overrides in front of moto.

Every AWS request is identified (protocol.py), counted (calls.py), may be refused by an injected fault
(admin/faults.py), is offered to our handlers (registry.py) and otherwise goes to moto's server-mode app.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from emulator.admin import faults, options, routes
from emulator.core import auth, calls, guard, protocol, registry, state
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse
from emulator.iceberg import store as iceberg_store

log = logging.getLogger("emulator")

StartResponse = Callable[..., Any]

_loaded = False
_load_lock = threading.Lock()


def load_extensions() -> None:
    """Import our extension modules once, before moto's CloudFormation model caches are first used: they
    register handlers and CloudFormation models as they are imported."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        # In this order (handlers register, and moto is patched, as each is imported):
        import emulator.glue.models  # noqa: I001
        import emulator.lakeformation.models
        import emulator.s3tables
        import emulator.cloudformation
        import emulator.firehose
        import emulator.iam.trust
        import emulator.admin.identity
        import emulator.s3.secure_transport
        import emulator.s3.checksums
        import emulator.s3.lifecycle
        import emulator.lambda_
        import emulator.cloudwatch.responses
        import emulator.athena
        import emulator.scheduler.responses
        import emulator.iam.calls  # noqa: F401
        from moto.cloudformation import parsing

        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        _loaded = True


account_for = auth.account_for


def _plain(start_response: StartResponse, status: int, message: str) -> Iterable[bytes]:
    """A refusal by the local AWS itself (not an AWS error): JSON ``{"Message": ...}``."""
    import json

    body = json.dumps({"Message": message}).encode()
    start_response(
        f"{status} {_reason(status)}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def wipe_data_dir() -> None:
    root = state.data_dir()
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def reset_all() -> None:
    """Wipe moto's backends, every registered state of ours, faults, the counter and the data dir; options
    go back to the process's start-up values."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    registry.run_reset()
    iceberg_store.reset()
    faults.clear()
    options.reset()
    calls.reset()
    wipe_data_dir()


class EmulatorApp:
    """WSGI app: ``/_emulator/*`` is ours, everything else is an AWS call."""

    def __init__(self) -> None:
        from moto.moto_server import werkzeug_app
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        # moto answers every origin's CORS preflight ("*"): a page anywhere could then call the local
        # AWS with its well-known credentials. No CORS here; foreign Origins are refused (guard.py).
        werkzeug_app.DISABLE_GLOBAL_CORS = True
        load_extensions()
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        admin = path.startswith("/_emulator/") or path == "/_emulator"
        lambda_url = path.startswith("/_lambda-url/")
        refused = guard.refusal(environ, admin=admin, lambda_url=lambda_url)
        if refused is not None:
            return _plain(start_response, *refused)
        if admin:
            return routes.handle(environ, start_response)
        if lambda_url:
            from emulator.lambda_ import urls

            return urls.handle(environ, start_response)
        if path.startswith("/moto-api"):  # moto's own reset/state API: not AWS, and not ours to expose
            return _plain(start_response, 404, f"no such path {path}")
        if path.startswith("/iceberg/"):  # the S3 Tables Iceberg REST endpoint (emulator/s3tables/rest.py)
            from emulator.s3tables import rest

            response, found = rest.serve(self, environ, _read_body(environ))
            return self._send(start_response, response, found)
        body = _read_body(environ)
        ident = protocol.identify(environ, body)
        service, proto = (ident.service, ident.protocol) if ident else ("s3", "rest-xml")
        refusal = auth.check(environ, body, proto, s3=service == "s3")
        if refusal is not None:
            if ident is not None:
                calls.record(ident.service, ident.operation)
            resp = OverrideResponse(status=refusal.status, error=(refusal.code, refusal.message))
            return self._send(start_response, resp, ident)
        if ident is None:
            return self._send(start_response, self.forward(environ, body))
        response = self.dispatch(environ, body, ident)
        return self._send(start_response, response, ident)

    def dispatch(
        self,
        environ: dict[str, Any],
        body: bytes,
        ident: protocol.Identified,
        own: Callable[[OverrideRequest], OverrideResponse] | None = None,
    ) -> OverrideResponse:
        """Count, decide faults, offer the request to our handlers; then ``own`` answers it (an operation
        moto does not know at all), or moto does."""
        calls.record(ident.service, ident.operation)
        fault = faults.decide(ident.service, ident.operation)
        if fault is not None:
            return OverrideResponse(status=fault[2], error=(fault[0], fault[1]))
        headers = {
            k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        req = OverrideRequest(
            service=ident.service,
            operation=ident.operation,
            region=ident.region,
            account_id=account_for(ident.access_key),
            protocol=ident.protocol,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            headers=headers,
            raw=body,
            body=protocol.parse_body(ident, body),
            query=_query(environ),
            forward=lambda: self.forward(environ, body),
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
        return self.forward(environ, body)

    def forward(self, environ: dict[str, Any], body: bytes) -> OverrideResponse:
        """Run the request through moto and capture its response."""
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return lambda _data: None

        chunks = self.moto(env, capture)
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

    @staticmethod
    def _send(
        start_response: StartResponse, resp: OverrideResponse, ident: protocol.Identified | None = None
    ) -> Iterable[bytes]:
        status, headers, body = resp.status, dict(resp.headers), resp.body
        if resp.error is not None:
            service = ident.service if ident else "s3"
            proto = ident.protocol if ident else "rest-xml"
            status, headers, body = protocol.render_error(
                service, proto, resp.error[0], resp.error[1], status
            )
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [body]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _read_body(environ: dict[str, Any]) -> bytes:
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


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def _quiet_handler() -> type:
    """moto's request handler, logging only server errors (a line per request drowns test output)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if str(code).startswith("5"):
                super().log_request(code, size)

    return QuietHandler


def _lambda_endpoint(url: str) -> None:
    from emulator.lambda_ import models

    models.set_endpoint(url)


def _stop_lambda_workers() -> None:
    from emulator.lambda_ import stop_workers

    stop_workers()


class EmulatorServer:
    """One threaded werkzeug server on 127.0.0.1; ``port=0`` picks a free port. It answers only requests
    whose ``Host`` is a loopback name or one of ``allowed_hosts`` (guard.py)."""

    def __init__(
        self,
        port: int = state.DEFAULT_PORT,
        data_dir: str | os.PathLike[str] | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.port = port
        self.data_dir = Path(data_dir) if data_dir else state.DEFAULT_DATA_DIR
        self.allowed_hosts = tuple(allowed_hosts)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _prepare(self) -> EmulatorApp:
        state.set_data_dir(self.data_dir)
        guard.set_allowed_hosts(self.allowed_hosts)
        os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
        app = EmulatorApp()
        reset_all()
        self._server = make_server(
            "127.0.0.1", self.port, app, threaded=True, request_handler=_quiet_handler()
        )
        self.port = int(self._server.server_address[1])
        _lambda_endpoint(self.endpoint)
        return app

    def start(self) -> EmulatorServer:
        """Serve on a daemon thread (in-process use: tests, benchmarks)."""
        self._prepare()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (``python -m emulator``)."""
        self._prepare()
        assert self._server is not None
        try:
            self._server.serve_forever()
        finally:
            _stop_lambda_workers()
            self._server.server_close()

    def stop(self) -> None:
        _stop_lambda_workers()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
