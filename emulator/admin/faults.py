"""Injected faults: what ``/_emulator/faults`` set, decided per request, with firing counts.

Kinds (``POST /_emulator/faults`` with a JSON object holding any of them; each kind given replaces that
kind, kinds not given stay; ``DELETE`` clears all; ``GET`` -> ``{"faults": {...}, "fired": {kind: n}}``):

- ``fail_mutating_call {number K, error_code, status}``: the K-th mutating call from now fails once.
- ``throttle {fraction, seed}``: that fraction of AWS calls is refused with the service's real
  throttling error (seeded RNG, so a run is reproducible).
- ``put_record_failures {...}``: consumed by the Firehose handlers (emulator/firehose); this module only
  stores it and counts firings they report.
- ``firehose_stream_failures {create: N, delete: N, type, details}``: the next N stream creations end
  ``CREATING_FAILED`` and the next N deletions without ``AllowForceDelete`` end ``DELETING_FAILED``, with
  ``FailureDescription {Type, Details}`` (Type one of botocore's DeliveryStreamFailureType values).
- ``latency {cloudformation_stack_seconds, firehose_stream_seconds, s3tables_bucket_name_reuse_seconds,
  firehose_put_seconds, athena_queued_seconds, athena_running_seconds}``: stacks (Engine._hold in
  emulator/cloudformation/engine.py), streams (Firehose handlers) and Athena queries (QUEUED, then RUNNING
  before they run: emulator/athena/runner.py) stay in their transitional state that long; a deleted
  table bucket's name is refused with ConflictException that long (emulator/s3tables/models.py);
  PutRecord and PutRecordBatch answer only after that long (a stalled stream; ``stall``), then take the
  records as usual. A state entered while
  its latency was set lasts while ``held`` says so: measured against the latency's current value, so
  lowering or clearing it ends a state already running (a test holds the state with a long latency while
  it looks, then ends it: no race with a loaded machine).
- ``omit_fields {"firehose.AppendOnly": true}``: DescribeDeliveryStream leaves AppendOnly out of the
  Iceberg destination description, as AWS may (whether it returns it is unconfirmed); ``false`` or no key:
  the field is returned.
- ``clock {offset_seconds}``: the local AWS's clock (emulator/core/clock.py) runs that many seconds ahead
  of the wall clock; a larger value moves it forward and runs what fell due. Clearing it sets it back.

Python API for handlers (in-process):
- ``current() -> dict``: a deep copy of all active faults, e.g. ``current().get("put_record_failures")``.
- ``get(kind) -> dict | None``.
- ``record_fired(kind, n=1)``: count n firings of ``kind`` (shown by GET).
- ``take(kind, key) -> dict | None``: use up one of the count ``key`` of ``kind``; its spec when one was left.
- ``omits(field) -> bool``: whether ``omit_fields`` asks to leave ``field`` (``SERVICE.Field``) out.
- ``latency(key) -> float``: the current seconds of one ``latency`` key (0 when unset).
- ``held(since, key) -> bool``: whether a transitional state entered at ``since`` still lasts.
- ``hold(key, since, stop)`` / ``wake()``: wait while it lasts, or until ``stop`` is set and woken.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import Counter
from typing import Any

from emulator.core import clock
from emulator.core.registry import OverrideResponse, error_response, register_gate, register_reset
from lake.operations import READ_PREFIXES

KINDS = (
    "fail_mutating_call",
    "throttle",
    "put_record_failures",
    "firehose_stream_failures",
    "latency",
    "omit_fields",
    "clock",
)
# omit_fields keys: SERVICE.Field, a field AWS may leave out of a response (aws-facts.md: absent != false).
OMITTABLE_FIELDS = ("firehose.AppendOnly",)
# botocore's firehose DeliveryStreamFailureType
STREAM_FAILURE_TYPES = (
    "VPC_ENDPOINT_SERVICE_NAME_NOT_FOUND",
    "VPC_INTERFACE_ENDPOINT_SERVICE_ACCESS_DENIED",
    "RETIRE_KMS_GRANT_FAILED",
    "CREATE_KMS_GRANT_FAILED",
    "KMS_ACCESS_DENIED",
    "DISABLED_KMS_KEY",
    "INVALID_KMS_KEY",
    "KMS_KEY_NOT_FOUND",
    "KMS_OPT_IN_REQUIRED",
    "CREATE_ENI_FAILED",
    "DELETE_ENI_FAILED",
    "SUBNET_NOT_FOUND",
    "SECURITY_GROUP_NOT_FOUND",
    "ENI_ACCESS_DENIED",
    "SUBNET_ACCESS_DENIED",
    "SECURITY_GROUP_ACCESS_DENIED",
    "UNKNOWN_ERROR",
)
STACK_SECONDS = "cloudformation_stack_seconds"  # holds a stack *_IN_PROGRESS
STREAM_SECONDS = "firehose_stream_seconds"  # holds a stream CREATING / DELETING
BUCKET_NAME_REUSE_SECONDS = "s3tables_bucket_name_reuse_seconds"  # a deleted bucket's name refused
PUT_SECONDS = "firehose_put_seconds"  # PutRecord / PutRecordBatch stall that long before answering
ATHENA_QUEUED_SECONDS = "athena_queued_seconds"  # holds an Athena query QUEUED
ATHENA_RUNNING_SECONDS = "athena_running_seconds"  # holds an Athena query RUNNING before it runs
LATENCY_KEYS = (
    STACK_SECONDS,
    STREAM_SECONDS,
    BUCKET_NAME_REUSE_SECONDS,
    PUT_SECONDS,
    ATHENA_QUEUED_SECONDS,
    ATHENA_RUNNING_SECONDS,
)

_lock = threading.Lock()
_changed = threading.Condition(_lock)  # notified whenever the faults change: a stall re-reads its latency
_faults: dict[str, dict[str, Any]] = {}
_fired: Counter[str] = Counter()
_mutating_seen = 0
_rng = random.Random(0)


class FaultError(ValueError):
    """A malformed fault definition (answered with 400 by the admin API)."""


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


def _validate(kind: str, spec: Any) -> dict[str, Any]:
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r}: expected one of {', '.join(KINDS)}")
    if not isinstance(spec, dict):
        raise FaultError(f"fault {kind!r} must be a JSON object")
    if kind == "fail_mutating_call":
        number = spec.get("number", 1)
        if not isinstance(number, int) or number < 1:
            raise FaultError(f"fail_mutating_call.number {number!r} must be an integer >= 1")
        status = spec.get("status", 500)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError(f"fail_mutating_call.status {status!r} must be an HTTP error status")
        return {
            "number": number,
            "error_code": str(spec.get("error_code", "InternalFailure")),
            "status": status,
            "message": str(spec.get("message", "Injected failure")),
        }
    if kind == "throttle":
        fraction = spec.get("fraction", 0.0)
        if not isinstance(fraction, int | float) or not 0.0 <= float(fraction) <= 1.0:
            raise FaultError(f"throttle.fraction {fraction!r} must be between 0 and 1")
        out = dict(spec)
        out["fraction"] = float(fraction)
        out["seed"] = spec.get("seed", 0)
        return out
    if kind == "firehose_stream_failures":
        for key in ("create", "delete"):
            count = spec.get(key, 0)
            if not isinstance(count, int) or count < 0:
                raise FaultError(f"firehose_stream_failures.{key} {count!r} must be an integer >= 0")
        ftype = spec.get("type", "UNKNOWN_ERROR")
        if ftype not in STREAM_FAILURE_TYPES:
            raise FaultError(
                f"firehose_stream_failures.type {ftype!r} must be one of {', '.join(STREAM_FAILURE_TYPES)}"
            )
        return {
            "create": spec.get("create", 0),
            "delete": spec.get("delete", 0),
            "type": ftype,
            "details": str(spec.get("details", "Injected failure")),
        }
    if kind == "omit_fields":
        for key, value in spec.items():
            if key not in OMITTABLE_FIELDS:
                raise FaultError(
                    f"unknown omit_fields key {key!r}: expected one of {', '.join(OMITTABLE_FIELDS)}"
                )
            if not isinstance(value, bool):
                raise FaultError(f"omit_fields.{key} {value!r} must be true or false")
        return dict(spec)
    if kind == "latency":
        for key, value in spec.items():
            if key not in LATENCY_KEYS:
                raise FaultError(f"unknown latency {key!r}: expected one of {', '.join(LATENCY_KEYS)}")
            if not isinstance(value, int | float) or value < 0:
                raise FaultError(f"latency.{key} {value!r} must be a number of seconds >= 0")
        return dict(spec)
    if kind == "clock":
        if set(spec) - {"offset_seconds"}:
            raise FaultError(
                f"unknown clock keys {sorted(set(spec) - {'offset_seconds'})}: expected offset_seconds"
            )
        value = spec.get("offset_seconds", 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise FaultError(f"clock.offset_seconds {value!r} must be a number of seconds >= 0")
        return {"offset_seconds": float(value)}
    return dict(spec)


def set_faults(spec: dict[str, Any]) -> None:
    global _mutating_seen, _rng
    checked = {kind: _validate(kind, value) for kind, value in spec.items() if value is not None}
    with _lock:
        for kind in spec:
            if spec[kind] is None:
                _faults.pop(kind, None)
        _faults.update(checked)
        if "fail_mutating_call" in checked:
            _mutating_seen = 0
        if "throttle" in checked:
            _rng = random.Random(checked["throttle"]["seed"])
        _changed.notify_all()
        offset = (_faults.get("clock") or {}).get("offset_seconds", 0.0)
    clock.set_offset(offset)  # outside the lock: the clock's hooks may read faults


@register_reset
def clear() -> None:
    global _mutating_seen
    with _lock:
        _faults.clear()
        _fired.clear()
        _mutating_seen = 0
        _changed.notify_all()
    clock.set_offset(0.0)


def current() -> dict[str, Any]:
    with _lock:
        return copy.deepcopy(_faults)


def get(kind: str) -> dict[str, Any] | None:
    with _lock:
        value = _faults.get(kind)
        return copy.deepcopy(value) if value is not None else None


def record_fired(kind: str, n: int = 1) -> None:
    with _lock:
        _fired[kind] += n


def take(kind: str, key: str) -> dict[str, Any] | None:
    """Use up one of the count ``key`` of ``kind`` (counted as fired): its spec, or None when none is left."""
    with _lock:
        spec = _faults.get(kind)
        if not spec or int(spec.get(key, 0)) <= 0:
            return None
        spec[key] = int(spec[key]) - 1
        _fired[kind] += 1
        return copy.deepcopy(spec)


def omits(field: str) -> bool:
    with _lock:
        return bool((_faults.get("omit_fields") or {}).get(field))


def latency(key: str) -> float:
    """The current seconds of one ``latency`` key (0 when unset)."""
    with _lock:
        return float((_faults.get("latency") or {}).get(key, 0) or 0)


def held(since: float, key: str, now: float | None = None) -> bool:
    """Whether a state entered at ``since`` (``time.monotonic()``) lasts at ``now``: the latency's current
    value decides, so lowering or clearing it ends a state already running when the test chooses."""
    return (time.monotonic() if now is None else now) < since + latency(key)


def stall(key: str) -> None:
    """Hold the calling request while the latency ``key`` lasts (``held``), counted as a ``latency``
    firing. It waits on the faults changing, not in fixed sleeps: lowering or clearing the latency lets a
    held request go at once."""
    since = time.monotonic()
    with _lock:
        if float((_faults.get("latency") or {}).get(key, 0) or 0) <= 0:
            return
        _fired["latency"] += 1
        while True:
            left = since + float((_faults.get("latency") or {}).get(key, 0) or 0) - time.monotonic()
            if left <= 0:
                return
            _changed.wait(left)


def hold(key: str, since: float, stop: threading.Event) -> None:
    """Wait while a state entered at ``since`` lasts (``held``), or until ``stop`` is set and ``wake`` is
    called; counted as a ``latency`` firing when it waits at all."""
    with _lock:
        if float((_faults.get("latency") or {}).get(key, 0) or 0) <= 0:
            return
        _fired["latency"] += 1
        while not stop.is_set():
            left = since + float((_faults.get("latency") or {}).get(key, 0) or 0) - time.monotonic()
            if left <= 0:
                return
            _changed.wait(left)


def wake() -> None:
    """Let every ``hold`` look again at once (its ``stop`` was set)."""
    with _lock:
        _changed.notify_all()


def snapshot() -> dict[str, Any]:
    with _lock:
        return {"faults": copy.deepcopy(_faults), "fired": dict(_fired)}


# Throttling errors per service, as AWS answers them (codes botocore's standard retry mode retries).
_THROTTLE: dict[str, tuple[str, int]] = {
    "s3": ("SlowDown", 503),
    "s3tables": ("TooManyRequestsException", 429),
    "lakeformation": ("ThrottledException", 429),
    "iam": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "cloudformation": ("Throttling", 400),
    "cloudwatch": ("Throttling", 400),
    "firehose": ("LimitExceededException", 400),
    "athena": ("TooManyRequestsException", 400),
}
_FIREHOSE_DATA_OPS = ("PutRecord", "PutRecordBatch")


def throttle_error(service: str, operation: str) -> tuple[str, str, int]:
    if service == "firehose" and operation in _FIREHOSE_DATA_OPS:
        return "ServiceUnavailableException", "Slow down.", 503
    code, status = _THROTTLE.get(service, ("ThrottlingException", 400))
    return code, "Rate exceeded", status


def decide(service: str, operation: str) -> tuple[str, str, int] | None:
    """Asked once per AWS request (through ``gate``): the error to answer with, or None."""
    global _mutating_seen
    with _lock:
        throttle = _faults.get("throttle")
        if throttle and throttle["fraction"] > 0 and _rng.random() < throttle["fraction"]:
            _fired["throttle"] += 1
            return throttle_error(service, operation)
        fail = _faults.get("fail_mutating_call")
        if fail and not fail.get("spent") and is_mutating(operation):
            _mutating_seen += 1
            if _mutating_seen == fail["number"]:
                _fired["fail_mutating_call"] += 1
                fail["spent"] = True
                return fail["error_code"], fail["message"], fail["status"]
    return None


@register_gate
def gate(service: str, operation: str) -> OverrideResponse | None:
    """The dispatcher's question about every AWS request (registry gate): the injected fault's answer."""
    fault = decide(service, operation)
    return None if fault is None else error_response(fault[0], fault[1], fault[2])
