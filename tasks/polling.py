"""The one poll-with-deadline: read, check, sleep a growing delay, until done or the deadline.

Used for every wait the tool, verify/ and bench/ do: a stack or stream reaching a status, a process
becoming healthy or exiting, rows arriving. botocore has no Firehose waiters, and CloudFormation's poll
every 30 s and cannot print the stack's events as they happen (tasks/steps/stack_events.py), so those waits go
through here too. There is no fixed sleep anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from botocore.exceptions import ClientError

from lake.deadline import backoff
from tasks.errors import error_code

T = TypeVar("T")


def backoff_delays(deadline_s: float, first: float = 0.2, cap: float = 5.0) -> Iterator[float]:
    """Delays growing x1.5 up to `cap`, until `deadline_s` seconds after the first delay is asked for."""
    yield from backoff(time.monotonic() + deadline_s, first=first, cap=cap, factor=1.5)


def operation_delays(
    deadline_s: float,
    *,
    minimum: float,
    cap: float,
    fraction: float = 0.5,
    probe: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[float]:
    """Delays for waiting on an operation expected to take at least `minimum` seconds (a stack, a stream).

    A backoff from ~0 spends most of its reads in the first second, where they can only say "in
    progress". Here the first read is at `minimum` (after an optional `probe`, for a service that may
    finish at once, as the emulator does without its latency fault), and each later one when the time
    since the start has grown by `fraction`, capped at `cap`: completion is seen at most `fraction` of
    the operation's duration (or `cap`) late, in about log(T / minimum) / log(1 + fraction) reads.
    Every delay is clipped to the time left before `deadline_s` seconds after this call.
    """
    start = clock()
    deadline = start + deadline_s

    # The first reads, in seconds since the start: the probe, if any, then the minimum.
    firsts = ([probe] if probe is not None and probe < minimum else []) + [minimum]

    def delays() -> Iterator[float]:
        while True:
            now = clock()
            left = deadline - now
            if left <= 0:
                return
            if firsts:
                delay = max(start + firsts.pop(0) - now, 0.0)
            else:  # past the minimum, fraction * minimum is the floor
                delay = min(max(fraction * (now - start), fraction * minimum), cap)
            yield min(delay, left)

    return delays()


def resource_delays(deadline_s: float, *, local: bool, read_now: bool) -> Iterator[float]:
    """The wait on a stack or stream operation (tasks/steps/stack_events.py, streams.py), local or on AWS.

    Local: the emulator either finishes at once (no latency fault: the 0.1 s probe, only when the wait
    does not read at once, sees it) or takes the fault's seconds (0.5 to 3 s in the tests and bench/):
    reads at 1 s, then x1.5, at most 1 s apart. AWS: a stack or stream operation takes tens of seconds
    (an assumed floor of 5 s, not a documented one), then x1.5, at most 10 s apart (the stack's events
    are printed as they come).
    """
    if local:
        return operation_delays(deadline_s, minimum=1.0, cap=1.0, probe=None if read_now else 0.1)
    return operation_delays(deadline_s, minimum=5.0, cap=10.0)


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    delays: Iterator[float],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Call `read` until `done` says so, sleeping the `delays` between reads.

    Returns the last value read and whether `done` held; always reads at least once, and once more
    after the last delay, so a value that arrives right at the deadline is still seen.
    """
    while True:
        value = read()
        if done(value):
            return value, True
        delay = next(delays, None)
        if delay is None:
            return value, False
        sleep(delay)


def poll(
    read: Callable[[], T],
    done: Callable[[T], bool],
    delays: Iterator[float],
    timeout: Callable[[T], Exception],
    *,
    read_now: bool = True,
) -> T:
    """poll_until, raising `timeout(last value)` when the delays run out.

    read_now=False sleeps the first delay before the first read (right after a create, the first read
    would only say "in progress" and cost a call).
    """
    if not read_now:
        time.sleep(next(delays, 0.0))
    value, ok = poll_until(read, done, delays)
    if not ok:
        raise timeout(value)
    return value


def retry_codes(
    call: Callable[[], T], codes: tuple[str, ...], deadline_s: float = 60.0, first: float = 0.5
) -> T:
    """Retry `call` while it fails with one of `codes` (e.g. IAM eventual consistency), bounded.

    botocore's retry mode covers throttling and 5xx; this is only for service-specific "not yet"
    errors a freshly created IAM role causes in the next call.
    """
    delays = backoff_delays(deadline_s, first=first)
    while True:
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) not in codes:
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            time.sleep(delay)
