"""The local AWS's clock for the alarm and schedule tests.

Alarms: move it to just past the next whole minute, so the minute before is evaluated
(emulator/cloudwatch/alarms.py evaluates at whole minutes) and the next datapoints fall into a fresh one.
A test does its sends inside one minute of the clock, then moves on by one.

Schedules: a schedule fires at each of its times the clock passes, the real passing of time included
(emulator/scheduler/models.py). A test takes the time it moves to from next_firing, which first moves the
clock past a time near enough to fall due on its own while the test runs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.scheduler.expressions import due

MINUTE = 60


def clock_now(emu: Any) -> float:
    """The local AWS's time: the wall clock plus the clock fault's offset (the emulator runs here)."""
    offset = float((emu.faults()["faults"].get("clock") or {}).get("offset_seconds", 0.0))
    return time.time() + offset


def next_minute(emu: Any, past: float = 1.0) -> float:
    """Move the clock to `past` seconds after the next whole minute; return that minute (epoch seconds)."""
    minute = (clock_now(emu) // MINUTE + 1) * MINUTE
    emu.set_faults({"clock": {"offset_seconds": minute + past - time.time()}})
    return minute


def states(emu: Any, prefix: str) -> dict[str, str]:
    """Alarm name -> StateValue, for every alarm whose name starts with `prefix`."""
    alarms = emu.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix, MaxRecords=100)["MetricAlarms"]
    return {a["AlarmName"]: a["StateValue"] for a in alarms}


def clock_to(emu: Any, when: datetime) -> None:
    """Move the clock to `when` (later than the clock's now)."""
    emu.set_faults({"clock": {"offset_seconds": when.timestamp() - time.time()}})


def _first(expression: str, after: datetime) -> datetime:
    return next(due(expression, "UTC", after, after, after + timedelta(days=2)))


def next_firing(emu: Any, expression: str, clear: float) -> datetime:
    """The first time a schedule `expression` (UTC) names at least `clear` seconds after the clock's now;
    nearer times are passed first (the clock moved a minute beyond each). Called before the schedule is
    made, it fires nothing by itself for `clear` seconds, then first at the time returned."""
    now = datetime.fromtimestamp(clock_now(emu), UTC)
    at = _first(expression, now)
    while (at - now).total_seconds() < clear:
        now = at + timedelta(minutes=1)
        clock_to(emu, now)
        at = _first(expression, now)
    return at
