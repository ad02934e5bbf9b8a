"""The one client of the emulator's ``/_emulator/`` admin API (emulator/admin/routes.py).

Tests, bench and the tool (``tasks/``) all drive the emulator through it. It uses only the standard
library, so importing it never imports moto.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

ADMIN_PREFIX = "/_emulator/"
JSON_TYPE = "application/json"


class AdminClient:
    """The admin API of the emulator at ``endpoint``; every method is one HTTP request."""

    def __init__(self, endpoint: str, timeout: float = 60.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, route: str, payload: Any = None, timeout: float | None = None) -> Any:
        """``method`` on ``/_emulator/route`` (``payload``, or ``{}`` for a write without one, as a JSON
        body); the parsed JSON answer."""
        write = method.upper() != "GET"
        data = json.dumps({} if payload is None else payload).encode() if write else None
        req = urllib.request.Request(f"{self.endpoint}{ADMIN_PREFIX}{route}", data=data, method=method)
        if write:  # the admin API refuses writes without a JSON body type (no cross-site form can send one)
            req.add_header("Content-Type", JSON_TYPE)
        with urllib.request.urlopen(req, timeout=self.timeout if timeout is None else timeout) as resp:
            return json.loads(resp.read() or b"{}")

    def health(self, timeout: float | None = None) -> dict[str, Any]:
        """``GET health``; raises ``OSError`` (``URLError``) while nothing answers."""
        return dict(self.request("GET", "health", timeout=timeout))

    def is_healthy(self, timeout: float = 1.0) -> bool:
        """True when the emulator answers ``{"status": "ok"}`` within ``timeout`` seconds."""
        try:
            return self.health(timeout=timeout).get("status") == "ok"
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def reset(self) -> None:
        """Wipe every state: moto's backends, ours, faults, the call counter and the data dir."""
        self.request("POST", "reset")

    def calls(self) -> list[dict[str, Any]]:
        """``[{"service", "operation", "count"}]`` since the last reset."""
        return list(self.request("GET", "calls")["calls"])

    def call_count(self, service: str, operation: str) -> int:
        return sum(
            c["count"] for c in self.calls() if c["service"] == service and c["operation"] == operation
        )

    def reset_calls(self) -> None:
        self.request("POST", "calls/reset")

    def flush(self) -> dict[str, int]:
        """Deliver every buffered Firehose record now: ``{"delivered": n, "failed": n, ...}``."""
        return dict(self.request("POST", "flush"))

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", "faults", faults))

    def faults(self) -> dict[str, Any]:
        return dict(self.request("GET", "faults"))

    def clear_faults(self) -> None:
        self.request("DELETE", "faults")

    def set_identity(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The caller becomes an assumed role (``role_path``, ``role_name``, ``session``, ``denied``)."""
        return dict(self.request("POST", "identity", spec))

    def identity(self) -> dict[str, Any]:
        return dict(self.request("GET", "identity"))

    def clear_identity(self) -> None:
        self.request("DELETE", "identity")

    def set_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``POST options`` (reset returns them to the start-up values)."""
        return dict(self.request("POST", "options", options)["options"])

    def options(self) -> dict[str, Any]:
        return dict(self.request("GET", "options")["options"])
