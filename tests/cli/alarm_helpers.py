"""The local AWS's clock for the alarm tests: move it to just past the next whole minute, so the minute
before is evaluated (emulator/cloudwatch/alarms.py evaluates at whole minutes) and the next datapoints
fall into a fresh one. A test does its sends inside one minute of the clock, then moves on by one."""

from __future__ import annotations

import time
from typing import Any

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
