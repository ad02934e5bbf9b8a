"""The local AWS answers this machine only: DNS rebinding and cross-site requests are refused.

- ``Host`` must name a loopback host (``127.0.0.1``, ``localhost``, ``::1``, any port) or one configured
  with ``python -m emulator --allow-host NAME`` (``EmulatorServer(allowed_hosts=...)``): a page whose name
  resolves to 127.0.0.1 (DNS rebinding) sends its own name, and gets ``403``. No ``Host`` at all: ``400``.
- A browser's ``Origin`` that is not a loopback origin gets ``403`` on the AWS API and the admin API, so no
  page elsewhere can call either with the well-known local credentials (moto's global CORS is off too).
- The admin API (``/_emulator/``) takes writes (``POST``/``PUT``/``DELETE``) only with a JSON
  ``Content-Type``: an HTML form or a ``text/plain`` fetch, the kinds a page may send cross-site without
  a CORS preflight, gets ``415`` and changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ADMIN_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
JSON_TYPE = "application/json"

_lock = threading.Lock()
_extra: set[str] = set()


def _normal(name: str) -> str:
    return name.strip().lower().rstrip(".")


def set_allowed_hosts(names: Iterable[str]) -> None:
    """Host names answered besides the loopback ones (the server's start-up option)."""
    with _lock:
        _extra.clear()
        _extra.update(_normal(n) for n in names if n.strip())


def allowed_hosts() -> frozenset[str]:
    with _lock:
        return LOOPBACK_HOSTS | frozenset(_extra)


def host_name(host: str) -> str:
    """The name of a ``Host`` value, without its port (``[::1]:4566`` -> ``::1``)."""
    host = host.strip()
    if host.startswith("["):
        return _normal(host[1 : host.find("]")] if "]" in host else host[1:])
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return _normal(name)
    return _normal(host)


def _loopback_origin(origin: str) -> bool:
    parts = urlsplit(origin.strip())
    return parts.scheme in ("http", "https") and _normal(parts.hostname or "") in LOOPBACK_HOSTS


def refusal(environ: dict[str, Any], *, admin: bool, any_origin: bool = False) -> tuple[int, str] | None:
    """(status, message) when the request must be refused, or None. ``any_origin``: a public web endpoint
    (a Function URL), which browsers of any Origin may call."""
    host = str(environ.get("HTTP_HOST") or "")
    if not host:
        return 400, "a Host header is required"
    if host_name(host) not in allowed_hosts():
        return (
            403,
            f"host {host_name(host)!r} is not allowed: the local AWS answers loopback names only "
            "(127.0.0.1, localhost, ::1); start it with --allow-host NAME to answer another",
        )
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not any_origin and not _loopback_origin(str(origin)):
        return 403, f"cross-site request refused: Origin {str(origin)[:200]!r} is not a loopback origin"
    if admin and str(environ.get("REQUEST_METHOD", "GET")).upper() in ADMIN_WRITES:
        ctype = str(environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        if ctype != JSON_TYPE:
            return 415, f"admin writes need Content-Type: {JSON_TYPE} (got {ctype or 'none'!r})"
    return None
