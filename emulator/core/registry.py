"""Registry of our handlers for AWS operations that moto lacks or gets wrong, and the hooks of the server.

The dispatcher (emulator/core/dispatch.py) identifies every request (service + operation, see protocol.py) and
calls the handler registered for it first; a handler either OWNS the operation (returns a response) or
lets moto answer (returns None). A handler can also AUGMENT moto: call ``req.forward()`` to get moto's
response and return a modified one.

Contract (shared with the Firehose engineer, keep it stable)::

    from emulator.core.exceptions import AwsError
    from emulator.core.registry import (
        OverrideRequest, OverrideResponse, register, json_response, error_response
    )

    @register("firehose", "PutRecordBatch")
    def put_record_batch(req: OverrideRequest) -> OverrideResponse | None:
        ...  # req.body is the parsed JSON request for JSON protocols
        return json_response({"FailedPutCount": 0, ...})
        # or: return error_response("ResourceNotFoundException", "Stream x not found", 400)
        # or: raise AwsError("ResourceNotFoundException", "Stream x not found", 400)

``error_response`` / ``AwsError`` (emulator/core/exceptions.py) are rendered by the dispatcher in the wire
error format of the request's protocol (json: ``{"__type": code, "message": ...}`` + ``x-amzn-ErrorType``;
rest-json: the same; query: ``<ErrorResponse><Error><Code>``; rest-xml: ``<Error><Code>``), so handlers
never build them.

Other hooks (core calls them; it imports no service, each service registers its own as it is imported,
and emulator/app.py imports the services):
- ``register_gate(fn)``: ``fn(service, operation) -> OverrideResponse | None``, asked about every counted
  AWS request before any handler: a response refuses the request (the admin API's injected faults).
- ``register_start(fn)`` / ``register_stop(fn)``: ``fn(endpoint)`` once the server listens (Lambda's
  workers learn the endpoint they call back), ``fn()`` before it shuts down (Lambda's workers stop).
- ``register_flush(fn)``: ``fn() -> {"delivered": n, "failed": n}``, called by ``POST /_emulator/flush``.
- ``register_reset(fn, phase=RESET_STATE)``: ``fn() -> None``, called by ``POST /_emulator/reset`` (and when
  the server starts). Whatever holds state registers its own reset where that state is made; there is no
  list of services to reset. The phases run in the order of ``RESET_PHASES``: moto's backends, then our
  in-memory state (the default: drop it there), then what holds files of the data dir open, then the data
  dir itself.
- ``emulator.core.state.data_dir()`` is the directory for files (Iceberg warehouse, ...); emptied on reset.
- Faults for handlers to consume: emulator/admin/faults.py (``faults.current()``, ``faults.record_fired``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass
class OverrideResponse:
    """A response for the wire; ``error`` set means the dispatcher renders it per protocol."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (code, message)


@dataclass
class OverrideRequest:
    """One identified AWS request, as handlers see it."""

    service: str  # botocore service name: "firehose", "glue", "s3tables", "cloudformation", ...
    operation: str  # botocore operation name: "PutRecordBatch", "GetCatalog", ...
    region: str
    account_id: str
    protocol: str  # botocore protocol: json, rest-json, query, rest-xml, smithy-rpc-v2-cbor
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    # Parsed input: the JSON object for json/rest-json bodies, the form params (last value wins) for
    # query protocols, {} otherwise. For rest-json, URI labels are merged in under their member names.
    body: dict[str, Any]
    query: dict[str, list[str]] = field(default_factory=dict)
    forward: Callable[[], OverrideResponse] = field(default=lambda: OverrideResponse(status=500), repr=False)


Handler = Callable[[OverrideRequest], OverrideResponse | None]
FlushHook = Callable[[], dict[str, int]]
ResetHook = Callable[[], None]
Gate = Callable[[str, str], OverrideResponse | None]
StartHook = Callable[[str], None]
StopHook = Callable[[], None]

RESET_BACKENDS = "backends"  # moto's backends: first, so our state may be rebuilt on empty ones
RESET_STATE = "state"  # our in-memory state: every service's, the faults, options and call counter
RESET_FILES = "files"  # what holds files of the data dir open (the Iceberg store's catalogs)
RESET_DATA_DIR = "data_dir"  # the data dir itself, emptied last
RESET_PHASES = (RESET_BACKENDS, RESET_STATE, RESET_FILES, RESET_DATA_DIR)

_lock = threading.Lock()
_handlers: dict[tuple[str, str], list[Handler]] = {}
_flush_hooks: list[FlushHook] = []
_reset_hooks: dict[str, list[ResetHook]] = {phase: [] for phase in RESET_PHASES}
_gates: list[Gate] = []
_start_hooks: list[StartHook] = []
_stop_hooks: list[StopHook] = []


def register(service: str, operation: str) -> Callable[[Handler], Handler]:
    """Decorator: ``handler`` is tried for (service, operation); the last registered runs first."""

    def deco(fn: Handler) -> Handler:
        with _lock:
            _handlers.setdefault((service, operation), []).insert(0, fn)
        return fn

    return deco


def handlers_for(service: str, operation: str) -> list[Handler]:
    with _lock:
        return list(_handlers.get((service, operation), ()))


def register_flush(fn: FlushHook) -> FlushHook:
    with _lock:
        _flush_hooks.append(fn)
    return fn


def register_reset(fn: ResetHook, phase: str = RESET_STATE) -> ResetHook:
    """``fn`` runs on every reset, in its ``phase`` (usable as a decorator for the default phase)."""
    if phase not in _reset_hooks:
        raise ValueError(f"unknown reset phase {phase!r}: expected one of {', '.join(RESET_PHASES)}")
    with _lock:
        _reset_hooks[phase].append(fn)
    return fn


def register_gate(fn: Gate) -> Gate:
    with _lock:
        _gates.append(fn)
    return fn


def register_start(fn: StartHook) -> StartHook:
    with _lock:
        _start_hooks.append(fn)
    return fn


def register_stop(fn: StopHook) -> StopHook:
    with _lock:
        _stop_hooks.append(fn)
    return fn


def run_gates(service: str, operation: str) -> OverrideResponse | None:
    """The first gate's refusal of this request, or None."""
    with _lock:
        gates = list(_gates)
    for gate in gates:
        refused = gate(service, operation)
        if refused is not None:
            return refused
    return None


def run_start(endpoint: str) -> None:
    with _lock:
        hooks = list(_start_hooks)
    for fn in hooks:
        fn(endpoint)


def run_stop() -> None:
    with _lock:
        hooks = list(_stop_hooks)
    for fn in hooks:
        fn()


def run_flush() -> dict[str, int]:
    total = {"delivered": 0, "failed": 0}
    for fn in list(_flush_hooks):
        for key, value in (fn() or {}).items():
            total[key] = total.get(key, 0) + int(value)
    return total


def run_reset() -> None:
    """Every registered reset, phase by phase, each phase in registration order."""
    for phase in RESET_PHASES:
        with _lock:
            hooks = list(_reset_hooks[phase])
        for fn in hooks:
            fn()


def json_response(
    data: dict[str, Any], status: int = 200, content_type: str = JSON_CONTENT_TYPE
) -> OverrideResponse:
    return OverrideResponse(
        status=status,
        body=json.dumps(data, default=_json_default).encode(),
        headers={"Content-Type": content_type},
    )


def error_response(code: str, message: str, status: int = 400) -> OverrideResponse:
    return OverrideResponse(status=status, error=(code, message))


def _json_default(value: Any) -> Any:
    import datetime

    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
