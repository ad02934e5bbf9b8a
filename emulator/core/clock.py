"""The local AWS's clock: wall time plus an offset that a fault moves forward.

Whatever ages in the local AWS (S3 lifecycle expiry, alarm periods, schedules) reads `now()`, so a test
moves time by a month without waiting a month: ``POST /_emulator/faults {"clock": {"offset_seconds": N}}``.
Moving the offset forward runs the `on_advance` hooks once, in registration order, with the new time, so
each service acts on what fell due (expire objects, evaluate alarms, fire schedules). Clearing the fault
(or ``POST /_emulator/reset``) sets the offset back to 0; what already happened stays done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

AdvanceHook = Callable[[float], None]

_lock = threading.Lock()
_offset = 0.0
_hooks: list[AdvanceHook] = []


def now() -> float:
    """Epoch seconds as the local AWS sees them."""
    return time.time() + _offset


def offset() -> float:
    return _offset


def on_advance(fn: AdvanceHook) -> AdvanceHook:
    """Register `fn(now)`, run each time the clock moves forward (usable as a decorator)."""
    with _lock:
        if fn not in _hooks:
            _hooks.append(fn)
    return fn


def remove_hook(fn: AdvanceHook) -> None:
    with _lock:
        if fn in _hooks:
            _hooks.remove(fn)


def set_offset(seconds: float) -> None:
    """Set the offset; a move forward runs the hooks (outside the lock: they may read `now()`)."""
    global _offset
    with _lock:
        forward = seconds > _offset
        _offset = float(seconds)
        hooks = list(_hooks)
    if forward:
        at = now()
        for fn in hooks:
            fn(at)
