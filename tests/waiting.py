"""The tests' one wait: poll a check with growing delays toward a deadline (tasks/polling.py, no fixed
sleeps), failing the test when the check never holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tasks.polling import backoff, poll_until

T = TypeVar("T")


def wait_for(
    check: Callable[[], T],
    timeout: float = 20.0,
    what: str = "condition",
    first: float = 0.02,
    cap: float = 0.5,
) -> T:
    """Call ``check`` until it returns a truthy value and return that value; the delays double from
    ``first`` up to ``cap``. Fails (AssertionError naming ``what``) once ``timeout`` seconds have passed."""
    value, ok = poll_until(check, bool, backoff(time.monotonic() + timeout, first=first, cap=cap))
    assert ok, f"timed out after {timeout:g} s waiting for {what}"
    return value
