"""Counter of every AWS API call received (``GET /_emulator/calls``), named as botocore names them."""

from __future__ import annotations

import threading
from collections import Counter

from emulator.core.registry import register_reset

_lock = threading.Lock()
_calls: Counter[tuple[str, str]] = Counter()


def record(service: str, operation: str) -> None:
    with _lock:
        _calls[(service, operation)] += 1


@register_reset
def reset() -> None:
    with _lock:
        _calls.clear()


def snapshot() -> list[dict[str, object]]:
    with _lock:
        return [
            {"service": service, "operation": operation, "count": count}
            for (service, operation), count in sorted(_calls.items())
        ]
