"""tasks/polling.py on a fake clock: the one poll, and when a stack's or a stream's wait reads."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tasks.polling import operation_delays, poll, resource_delays


def test_poll_reads_until_done_and_raises_the_timeout_with_the_last_value():
    reads = iter(["CREATING", "CREATING", "ACTIVE"])
    assert poll(lambda: next(reads), lambda s: s == "ACTIVE", iter([0.0] * 5), RuntimeError) == "ACTIVE"

    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        return "CREATING"

    with pytest.raises(RuntimeError, match=r"^still CREATING$"):
        poll(read, lambda s: s == "ACTIVE", iter([0.0, 0.0]), lambda s: RuntimeError(f"still {s}"))
    assert len(calls) == 3  # a read before each delay and one after the last

    calls.clear()
    with_wait = iter([0.0, 0.0])
    poll(read, lambda s: True, with_wait, RuntimeError, read_now=False)
    assert len(calls) == 1 and list(with_wait) == [0.0]  # the first delay was slept before reading


def read_times(delays_of: Callable[..., Iterator[float]], deadline_s: float, **kwargs: Any) -> list[float]:
    """The seconds since the start at which a poll over operation_delays reads (a fake clock)."""
    now = [0.0]
    times: list[float] = []
    for delay in delays_of(deadline_s, clock=lambda: now[0], **kwargs):
        now[0] += delay
        times.append(round(now[0], 3))
    return times


def test_an_operation_wait_reads_first_at_its_minimum_then_when_the_elapsed_time_grew_by_half():
    """The stack and stream waits: no reads in the first second where they could only say "in progress"
    (the old backoff from 0.1 s made four there), then each read at most half the elapsed time late."""
    local = read_times(operation_delays, 5.0, minimum=1.0, cap=1.0, probe=0.1)
    assert local == [0.1, 1.0, 1.5, 2.25, 3.25, 4.25, 5.0]  # probe, minimum, x1.5, capped, clipped
    assert read_times(operation_delays, 5.0, minimum=1.0, cap=1.0) == [1.0, 1.5, 2.25, 3.25, 4.25, 5.0]
    aws = read_times(operation_delays, 60.0, minimum=5.0, cap=10.0)
    assert aws[:5] == [5.0, 7.5, 11.25, 16.875, 25.312] and aws[-2:] == [55.312, 60.0]
    assert all(b - a <= 10.0 for a, b in itertools.pairwise(aws))
    # A wait that reads at once has no probe: its first read already sees an operation that was instant.
    assert next(resource_delays(60.0, local=True, read_now=True)) == pytest.approx(1.0, abs=0.05)
    assert next(resource_delays(60.0, local=True, read_now=False)) == pytest.approx(0.1, abs=0.05)
