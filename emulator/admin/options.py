"""Emulator options: ``POST /_emulator/options`` (and flags of ``python -m emulator``) that relax a rule.

The local AWS is as strict as AWS by default; an option exists only for clients older than the contract:

- ``lenient_timestamps`` (default false): Iceberg ``timestamp`` columns also accept ISO-8601 strings
  (fractional seconds, ``Z`` or an offset). AWS documents only integer epoch microseconds, so by default
  any other value sends the record to the error bucket with ``Iceberg.InvalidTimestamp``.

``POST`` takes a JSON object of options to change (unknown keys or wrong types: 400) and answers with all
options; ``GET`` answers with all options. ``POST /_emulator/reset`` returns them to the values the process
started with (its flags), so a test that changes one cannot leak it into the next.
"""

from __future__ import annotations

import threading
from typing import Any

from emulator.core.registry import register_reset

DEFAULTS: dict[str, bool] = {"lenient_timestamps": False}

_lock = threading.Lock()
_startup: dict[str, bool] = dict(DEFAULTS)
_current: dict[str, bool] = dict(DEFAULTS)


class OptionError(ValueError):
    """An unknown option or a value of the wrong type (answered with 400 by the admin API)."""


def _checked(spec: Any) -> dict[str, bool]:
    if not isinstance(spec, dict):
        raise OptionError('options must be a JSON object, e.g. {"lenient_timestamps": true}')
    for key, value in spec.items():
        if key not in DEFAULTS:
            raise OptionError(f"unknown option {key!r}: expected one of {', '.join(DEFAULTS)}")
        if not isinstance(value, bool):
            raise OptionError(f"option {key} {value!r} must be true or false")
    return dict(spec)


def set_options(spec: Any) -> dict[str, bool]:
    checked = _checked(spec)
    with _lock:
        _current.update(checked)
        return dict(_current)


def set_startup(spec: dict[str, bool]) -> None:
    """The process's own values (``python -m emulator`` flags): current now, and again after every reset."""
    checked = _checked(spec)
    with _lock:
        _startup.clear()
        _startup.update({**DEFAULTS, **checked})
        _current.clear()
        _current.update(_startup)


@register_reset
def reset() -> None:
    with _lock:
        _current.clear()
        _current.update(_startup)


def snapshot() -> dict[str, bool]:
    with _lock:
        return dict(_current)


def lenient_timestamps() -> bool:
    with _lock:
        return _current["lenient_timestamps"]
