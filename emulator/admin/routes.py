"""The ``/_emulator/`` admin API: health, calls, faults, options, flush, reset and the caller's identity
(see docs/BRIEF.md)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from emulator.admin import faults, identity, options
from emulator.core import calls, registry, state
from emulator.core.wsgi import StartResponse, json_reply, read_json


def health() -> dict[str, Any]:
    """Alive, and whose: the checkout it runs from, its data dir and pid (the tool refuses another
    checkout's emulator by them, tasks/emulator_ctl.py)."""
    return {
        "status": "ok",
        "checkout": str(state.CHECKOUT),
        "data_dir": str(state.data_dir()),
        "pid": os.getpid(),
    }


def handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "").rstrip("/")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    route = path[len("/_emulator/") :] if path.startswith("/_emulator/") else ""
    try:
        if route == "health" and method == "GET":
            return json_reply(start_response, 200, health())
        if route == "calls" and method == "GET":
            return json_reply(start_response, 200, {"calls": calls.snapshot()})
        if route == "calls/reset" and method == "POST":
            calls.reset()
            return json_reply(start_response, 200, {"status": "ok"})
        if route == "reset" and method == "POST":
            registry.run_reset()
            return json_reply(start_response, 200, {"status": "ok"})
        if route == "flush" and method == "POST":
            return json_reply(start_response, 200, registry.run_flush())
        if route == "faults":
            if method == "GET":
                return json_reply(start_response, 200, faults.snapshot())
            if method == "DELETE":
                faults.clear()
                return json_reply(start_response, 200, faults.snapshot())
            if method in ("POST", "PUT"):
                spec = read_json(environ)
                if not isinstance(spec, dict):
                    raise faults.FaultError("faults must be a JSON object keyed by fault kind")
                faults.set_faults(spec)
                return json_reply(start_response, 200, faults.snapshot())
            return json_reply(start_response, 405, {"error": f"{method} not allowed on /_emulator/faults"})
        if route == "identity":
            if method == "GET":
                return json_reply(start_response, 200, identity.snapshot())
            if method == "DELETE":
                return json_reply(start_response, 200, identity.clear_identity())
            if method in ("POST", "PUT"):
                return json_reply(start_response, 200, identity.set_identity(read_json(environ)))
            return json_reply(start_response, 405, {"error": f"{method} not allowed on /_emulator/identity"})
        if route == "options":
            if method == "GET":
                return json_reply(start_response, 200, {"options": options.snapshot()})
            if method in ("POST", "PUT"):
                return json_reply(start_response, 200, {"options": options.set_options(read_json(environ))})
            return json_reply(start_response, 405, {"error": f"{method} not allowed on /_emulator/options"})
    except (faults.FaultError, options.OptionError, ValueError) as exc:
        return json_reply(start_response, 400, {"error": str(exc)})
    return json_reply(start_response, 404, {"error": f"no admin route {method} {path}"})
