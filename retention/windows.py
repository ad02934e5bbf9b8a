"""Retention windows and the cutoff day: pure, no AWS and no clock of its own.

A window of N days keeps every row younger than N days. A run at time T drops each whole UTC day that
ended at least N days before T: the days before `cutoff_day(T, N)`, the UTC date of T - N days. So a row is
kept at least N days and at most N + 1 days. Days are Iceberg's `day(timestamp)` partition values: days
since 1970-01-01.

Windows travel as one short string (the function's environment, the stack's parameter):
`logs=30,traces=7` (signals without a window are absent: kept for good).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

EPOCH_DAY = date(1970, 1, 1)


def cutoff_day(now: datetime, days: int) -> int:
    """The first day kept: days before it (whole UTC days that ended `days` days before `now`) go."""
    when = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    return ((when - timedelta(days=days)).date() - EPOCH_DAY).days


def day_date(day: int) -> date:
    return EPOCH_DAY + timedelta(days=day)


def day_text(day: int) -> str:
    """`2026-10-11`."""
    return day_date(day).isoformat()


def days_text(days: tuple[int, ...] | list[int]) -> str:
    """`2026-10-01..2026-10-03 (3 days)`, `2026-10-01 (1 day)`, or `none`."""
    if not days:
        return "none"
    first, last = min(days), max(days)
    count = len(days)
    span = day_text(first) if first == last else f"{day_text(first)}..{day_text(last)}"
    return f"{span} ({count} day{'s' if count != 1 else ''})"


def format_windows(windows: dict[str, int]) -> str:
    """`logs=30,traces=7`, in the order given."""
    return ",".join(f"{table}={days}" for table, days in windows.items())


def parse_windows(text: str) -> dict[str, int]:
    """The inverse of format_windows; ValueError names what is wrong."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        table, sep, days = part.partition("=")
        if not sep or not table or not days.isdigit() or int(days) < 1:
            raise ValueError(f"retention window {part!r} is not TABLE=DAYS with DAYS >= 1")
        out[table] = int(days)
    return out
