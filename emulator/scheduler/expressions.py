"""Schedule expressions as EventBridge Scheduler reads them (Scheduler User Guide, "Schedule types").

- `cron(minutes hours day-of-month month day-of-week year)`: six fields, each `*`, a value, a list `a,b`,
  a range `a-b` or a step `a/n` (`*/n`); day-of-week 1-7 (1 = Sunday) or SUN-SAT, months 1-12 or JAN-DEC;
  one of day-of-month and day-of-week must be `?`. `L`, `W` and `#` are valid on AWS and refused here
  (the local AWS does not evaluate them): a schedule it cannot fire is not accepted silently.
- `rate(N minute|minutes|hour|hours|day|days)`: every N units from the schedule's creation.
- `at(yyyy-mm-ddThh:mm:ss)`: once.

Times are evaluated in the schedule's ScheduleExpressionTimezone (default UTC); a schedule fires at most once
a minute (60-second precision, as AWS's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTE = timedelta(minutes=1)
MAX_FIRINGS = 400  # per schedule and clock move: a year of daily runs, and no runaway after a huge jump
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class InvalidExpression(ValueError):
    """Refused as EventBridge Scheduler's ValidationException refuses it (or the local AWS cannot fire it)."""


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows (None: any, `*` or `?`)."""
    if text in ("*", "?"):
        return None
    if any(c in text for c in "LW#"):
        raise InvalidExpression(f"cron field {text!r}: L, W and # are not evaluated by the local AWS")
    out: set[int] = set()

    def value(token: str) -> int:
        key = token.upper()
        if names and key in names:
            return names[key]
        if not token.isdigit():
            raise InvalidExpression(f"cron field {text!r}: {token!r} is not a value")
        number = int(token)
        if not lo <= number <= hi:
            raise InvalidExpression(f"cron field {text!r}: {number} is outside {lo}-{hi}")
        return number

    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = value(a), value(b)
        else:
            start = value(base)
            end = hi if step else start
        stride = int(step) if step else 1
        if step and (not step.isdigit() or stride < 1):
            raise InvalidExpression(f"cron field {text!r}: bad step {step!r}")
        out.update(range(start, end + 1, stride))
    return frozenset(out)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 1 = Sunday
    years: frozenset[int] | None

    def matches(self, t: datetime) -> bool:
        weekday = (t.isoweekday() % 7) + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.minutes, t.minute),
                (self.hours, t.hour),
                (self.days, t.day),
                (self.months, t.month),
                (self.weekdays, weekday),
                (self.years, t.year),
            )
        )


def parse_cron(body: str) -> Cron:
    parts = body.split()
    if len(parts) != 6:
        raise InvalidExpression(
            f"cron({body}) needs 6 fields: minutes hours day-of-month month day-of-week year"
        )
    if (parts[2] == "?") == (parts[4] == "?"):
        raise InvalidExpression(f"cron({body}): one of day-of-month and day-of-week must be ?, not both")
    return Cron(
        _field(parts[0], 0, 59),
        _field(parts[1], 0, 23),
        _field(parts[2], 1, 31),
        _field(parts[3], 1, 12, _MONTHS),
        _field(parts[4], 1, 7, _DAYS),
        _field(parts[5], 1970, 2199),
    )


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidExpression(f"Invalid ScheduleExpressionTimezone: {name}") from None


def validate(expression: str, timezone: str | None = None) -> None:
    """Raise InvalidExpression for what EventBridge Scheduler (or the local AWS) refuses."""
    zone(timezone)
    if _RATE.match(expression) or _AT.match(expression):
        if (m := _RATE.match(expression)) and int(m.group(1)) < 1:
            raise InvalidExpression(f"Invalid Schedule Expression {expression}: the rate must be at least 1")
        return
    cron = _CRON.match(expression)
    if cron is None:
        raise InvalidExpression(f"Invalid Schedule Expression {expression}")
    parse_cron(cron.group(1))


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def due(
    expression: str, timezone: str | None, created: datetime, after: datetime, until: datetime
) -> Iterator[datetime]:
    """The times (UTC, aware) in (after, until] the expression fires at, oldest first, at most MAX_FIRINGS
    (the latest ones when more fell due)."""
    tz = zone(timezone)
    found: list[datetime] = []
    if m := _RATE.match(expression):
        step = timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2).rstrip("s")])
        k = max(1, int((after - created) / step))
        t = created + k * step
        while t <= after:
            t += step
        while t <= until:
            found.append(t)
            t += step
    elif m := _AT.match(expression):
        t = datetime.fromisoformat(m.group(1)).replace(tzinfo=tz).astimezone(UTC)
        if after < t <= until:
            found.append(t)
    elif m := _CRON.match(expression):
        cron = parse_cron(m.group(1))
        start = max(_minute(after) + MINUTE, until - timedelta(days=366))
        t = _minute(start)
        while t <= until:
            if cron.matches(t.astimezone(tz)):
                found.append(t)
            t += MINUTE
    yield from found[-MAX_FIRINGS:]
