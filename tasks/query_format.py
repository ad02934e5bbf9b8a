"""`doit query` output: an aligned table for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import uuid
from typing import Any

from tasks.engines.base import Result

FORMATS = ("text", "json", "csv")
MAX_CELL = 100


def plain(value: Any) -> Any:
    """A value JSON can hold: numbers, strings, booleans and null stay; the rest become their text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    v = plain(value)
    text = v if isinstance(v, str) else json.dumps(v) if isinstance(v, list | dict) else str(v)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def footer(res: Result) -> str:
    n = len(res.rows)
    if res.truncated:
        return f"({n} rows shown: limit={res.limit} cut the result; limit=0 shows every row)"
    return f"({n} row{'' if n == 1 else 's'})"


def as_text(res: Result) -> str:
    if res.explain:  # DuckDB's plan is already drawn; show it as DuckDB does
        return "\n".join(str(row[-1]).rstrip("\n") for row in res.rows)
    cells = [[_cell(v) for v in row] for row in res.rows]
    numeric = [
        all(isinstance(row[i], int | float | decimal.Decimal) or row[i] is None for row in res.rows)
        and bool(res.rows)
        for i in range(len(res.columns))
    ]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(res.columns)]

    def line(values: list[str]) -> str:
        out = [
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    lines = [line(res.columns), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells]
    lines.append(footer(res))
    return "\n".join(lines)


def as_json(res: Result) -> str:
    doc: dict[str, Any] = {
        "columns": [{"name": n, "type": t} for n, t in zip(res.columns, res.types, strict=True)],
        "rows": [dict(zip(res.columns, (plain(v) for v in row), strict=True)) for row in res.rows],
        "row_count": len(res.rows),
        "truncated": res.truncated,
        "limit": res.limit,
    }
    if res.scan is not None:  # engine=athena: what the query read and billed
        doc["scan"] = {
            "query_execution_id": res.scan.query_id,
            "scanned_bytes": res.scan.scanned_bytes,
            "billed_bytes": res.scan.billed_bytes,
            "cost_usd": round(res.scan.cost_usd, 9),
        }
    return json.dumps(doc, indent=2)


def as_csv(res: Result) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(res.columns)
    for row in res.rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return buf.getvalue().rstrip("\n")


def _csv_value(value: Any) -> Any:
    v = plain(value)
    return json.dumps(v) if isinstance(v, list | dict) else v


def render(res: Result, fmt: str) -> str:
    return {"text": as_text, "json": as_json, "csv": as_csv}[fmt](res)
