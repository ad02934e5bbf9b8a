"""Deadlines and backoff on an injectable clock: the receiver's one deadline per request, the tool's polls
(tasks/polling.py) and the Firehose transport's resends all count time here, and tests inject the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A time on `clock` (monotonic seconds) after which no more work starts."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def left(self) -> float:
        return self.at - self.clock()

    def passed(self) -> bool:
        return self.left() <= 0


def backoff(
    deadline: float,
    *,
    first: float,
    cap: float,
    factor: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[float]:
    """Delays growing x`factor` up to `cap`, each clipped to the time left before `deadline` (a clock()
    value); yields nothing once the deadline has passed."""
    delay = first
    while True:
        left = deadline - clock()
        if left <= 0:
            return
        yield min(delay, left)
        delay = min(delay * factor, cap)
