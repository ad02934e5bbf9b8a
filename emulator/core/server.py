"""The emulator's WSGI app and server, for whatever services and mounts the composition root gives it.

``EmulatorApp`` routes each request: a ``Mount`` (a path prefix the local AWS answers itself: the admin
API, Function URLs, the Iceberg REST endpoint) or else the AWS API (dispatch.py). Every request passes the
guard first (guard.py: loopback hosts, no foreign Origins). ``Server`` runs one app on 127.0.0.1. Neither
knows a service: emulator/app.py lists the services and the mounts (moto's ``backends.py`` principle).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from emulator.core import dispatch, guard, registry, state, wsgi


@dataclass(frozen=True)
class Mount:
    """A path prefix answered by ``handler`` (a WSGI app) instead of the AWS API."""

    prefix: str  # e.g. "/_emulator/"
    handler: wsgi.WsgiApp
    admin: bool = False  # the guard's admin rule: writes need a JSON Content-Type
    any_origin: bool = False  # a browser of any Origin may call it (a public web endpoint)
    bare: bool = False  # the prefix without its trailing slash is this mount's too

    def matches(self, path: str) -> bool:
        return path.startswith(self.prefix) or (self.bare and path == self.prefix.rstrip("/"))


class EmulatorApp:
    """WSGI app: the mounts, then the AWS API (moto's own ``/moto-api`` is not exposed)."""

    def __init__(self, mounts: Sequence[Mount]) -> None:
        self.mounts = tuple(mounts)
        dispatch.moto_app()  # made now, not on the first request

    def __call__(self, environ: wsgi.Environ, start_response: wsgi.StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        mount = next((m for m in self.mounts if m.matches(path)), None)
        refused = guard.refusal(
            environ,
            admin=mount is not None and mount.admin,
            any_origin=mount is not None and mount.any_origin,
        )
        if refused is not None:
            return wsgi.message_reply(start_response, *refused)
        if mount is not None:
            return mount.handler(environ, start_response)
        if path.startswith("/moto-api"):  # moto's own reset/state API: not AWS, and not ours to expose
            return wsgi.message_reply(start_response, 404, f"no such path {path}")
        return dispatch.handle(environ, start_response)


def _quiet_handler() -> type:
    """moto's request handler, logging only server errors (a line per request drowns test output)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if str(code).startswith("5"):
                super().log_request(code, size)

    return QuietHandler


class Server:
    """One threaded werkzeug server on 127.0.0.1; ``port=0`` picks a free port. It answers only requests
    whose ``Host`` is a loopback name or one of ``allowed_hosts`` (guard.py).

    ``make_app`` builds the app once the data dir and hosts are set; then every state is reset, the port
    bound, and the start hooks run with the endpoint (registry.py). Stopping runs the stop hooks first."""

    def __init__(
        self,
        make_app: Callable[[], EmulatorApp],
        port: int = state.DEFAULT_PORT,
        data_dir: str | os.PathLike[str] | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.make_app = make_app
        self.port = port
        self.data_dir = Path(data_dir) if data_dir else state.DEFAULT_DATA_DIR
        self.allowed_hosts = tuple(allowed_hosts)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _prepare(self) -> BaseWSGIServer:
        state.set_data_dir(self.data_dir)
        guard.set_allowed_hosts(self.allowed_hosts)
        os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
        app = self.make_app()
        registry.run_reset()
        handler = _quiet_handler()
        self._server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=handler)
        self.port = int(self._server.server_address[1])
        registry.run_start(self.endpoint)
        return self._server

    def start(self) -> Server:
        """Serve on a daemon thread (in-process use: tests, benchmarks)."""
        server = self._prepare()
        self._thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (``python -m emulator``)."""
        server = self._prepare()
        try:
            server.serve_forever()
        finally:
            registry.run_stop()
            server.server_close()

    def stop(self) -> None:
        registry.run_stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
