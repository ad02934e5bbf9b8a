"""The emulator's WSGI layer: admin API, call counting, faults and our overrides in front of moto.

Every AWS request is identified (protocol.py), counted (calls.py), may be refused by an injected fault
(admin/faults.py), is offered to our handlers (registry.py) and otherwise goes to moto's server-mode app.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from emulator.admin import faults, routes
from emulator.core import auth, calls, guard, protocol, registry, state, wsgi
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse

log = logging.getLogger("emulator")

StartResponse = wsgi.StartResponse

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
        import emulator.cloudwatch.responses  # noqa: F401
        from moto.cloudformation import parsing

        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        _loaded = True


account_for = auth.account_for


def reset_moto() -> None:
    """moto's own backends: every service's state that we did not take over."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


registry.register_reset(reset_moto, registry.RESET_BACKENDS)


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
            return wsgi.message_reply(start_response, *refused)
        if admin:
            return routes.handle(environ, start_response)
        if lambda_url:
            from emulator.lambda_ import urls

            return urls.handle(environ, start_response)
        if path.startswith("/moto-api"):  # moto's own reset/state API: not AWS, and not ours to expose
            return wsgi.message_reply(start_response, 404, f"no such path {path}")
        if path.startswith("/iceberg/"):  # the S3 Tables Iceberg REST endpoint (emulator/s3tables/rest.py)
            from emulator.s3tables import rest

            response, found = rest.serve(self, environ, wsgi.read_body(environ))
            return self._send(start_response, response, found)
        body = wsgi.read_body(environ)
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
        req = OverrideRequest(
            service=ident.service,
            operation=ident.operation,
            region=ident.region,
            account_id=account_for(ident.access_key),
            protocol=ident.protocol,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            headers=wsgi.request_headers(environ),
            raw=body,
            body=protocol.parse_body(ident, body),
            query=wsgi.query(environ),
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
        if ident is None:
            return wsgi.send(start_response, resp)
        return wsgi.send(start_response, resp, ident.service, ident.protocol)


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
        registry.run_reset()
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
