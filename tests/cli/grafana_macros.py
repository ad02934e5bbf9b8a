"""What Grafana and its Athena data source do to a panel's SQL before Athena sees it, in Python:

1. Grafana's template service puts the panel's interval in place of `$__interval_ms` and `$__interval`;
2. the data source's backend (grafana/sqlds `interpolate`: the regex `\\$__NAME(?:\\((.*?)\\))?`, arguments
   split on `,` and trimmed) expands its macros as grafana/athena-datasource pkg/athena/macros.go does:
   - `$__timeFilter(col)` -> `col BETWEEN TIMESTAMP 'FROM' AND TIMESTAMP 'TO'` (`2006-01-02 15:04:05`);
   - `$__timeFrom()` / `$__timeTo()` -> `TIMESTAMP 'FROM'` / `TIMESTAMP 'TO'`;
   - `$__timeGroup(col, '1m')` -> `FROM_UNIXTIME(FLOOR(TO_UNIXTIME(col)/60)*60)` (Go's `%v` of the
     interval's seconds, a float64);
   - `$__unixEpochFilter(col)` -> `col BETWEEN FROM AND TO` (epoch seconds);
   - `$__dateFilter(col)` -> `col BETWEEN date 'FROM' AND date 'TO'`.
"""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_GO_TIME = "%Y-%m-%d %H:%M:%S"


def interval_seconds(text: str) -> float:
    """gtime.ParseInterval of `1m`, `30s`, `500ms`, `1h`, `1d`."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip())
    if not match:
        raise ValueError(f"not an interval: {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def go_float(value: float) -> str:
    """Go's `%v` of a float64 (strconv 'g', shortest): `60`, `0.5`, `86400`, `1e+06`."""
    if value == int(value) and abs(value) < 1e21:
        digits = str(int(value)).rstrip("0") or "0"
        exponent = len(str(int(abs(value)))) - 1
        if exponent < max(6, len(digits.lstrip("-"))):
            return str(int(value))
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{mantissa}e+{exponent:02d}"
    return repr(value)


def _time_group(args: list[str], _: tuple[dt.datetime, dt.datetime]) -> str:
    seconds = go_float(interval_seconds(args[1].strip("'")))
    column = f"TIMESTAMP {args[0]}" if len(args) == 3 and args[2] == "'yyyy-MM-dd HH:mm:ss'" else args[0]
    return f"FROM_UNIXTIME(FLOOR(TO_UNIXTIME({column})/{seconds})*{seconds})"


def _time_filter(args: list[str], span: tuple[dt.datetime, dt.datetime]) -> str:
    lo, hi = (t.strftime(_GO_TIME) for t in span)
    return f"{args[0]} BETWEEN TIMESTAMP '{lo}' AND TIMESTAMP '{hi}'"


MACROS = {
    "timeGroup": _time_group,
    "timeFilter": _time_filter,
    "timeFrom": lambda args, span: f"TIMESTAMP '{span[0].strftime(_GO_TIME)}'",
    "timeTo": lambda args, span: f"TIMESTAMP '{span[1].strftime(_GO_TIME)}'",
    "unixEpochFilter": lambda args, span: (
        f"{args[0]} BETWEEN {int(span[0].timestamp())} AND {int(span[1].timestamp())}"
    ),
    "dateFilter": lambda args, span: (
        f"{args[0]} BETWEEN date '{span[0]:%Y-%m-%d}' AND date '{span[1]:%Y-%m-%d}'"
    ),
}


def expand(sql: str, start: dt.datetime, end: dt.datetime, interval: str) -> str:
    """The SQL Athena receives for a panel shown over [start, end] (UTC) at `interval` (`1m`)."""
    ms = int(interval_seconds(interval) * 1000)
    text = sql.replace("$__interval_ms", str(ms)).replace("${__interval_ms}", str(ms))
    text = text.replace("${__interval}", interval).replace("$__interval", interval)
    span = (start.astimezone(dt.UTC), end.astimezone(dt.UTC))
    for name, macro in MACROS.items():
        for match in re.finditer(rf"\$__{name}(?:\((.*?)\))?", text):
            args = [a.strip() for a in match[1].split(",")] if match[1] is not None else []
            text = text.replace(match[0], macro(args, span))
    if "$__" in text:
        raise ValueError(f"a macro is left unexpanded: {text}")
    return text
