"""Athena's answers as Python values: GetQueryResults gives every value as text (`VarCharValue`, absent for
NULL) and each column's Trino type in `ColumnInfo`, so numbers, booleans, dates and timestamps are read back
by type. Arrays, maps and rows stay the text Athena gives (`[a, b]`, `{k=v}`): Athena does not type their
members in the result."""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo
from collections.abc import Callable
from typing import Any

_INTEGERS = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOATS = ("double", "real", "float")
_JAVA_SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _float(text: str) -> float:
    return _JAVA_SPECIAL[text] if text in _JAVA_SPECIAL else float(text)  # `1.0E10` reads as it is


def _bool(text: str) -> bool:
    return text.lower() == "true"


def _timestamp(text: str) -> dt.datetime:
    """`2026-01-02 03:04:05.678` (timestamp) or `... UTC` / `... Europe/Paris` (with time zone)."""
    day, _, rest = text.strip().partition(" ")
    clock, _, zone = rest.partition(" ")
    moment = dt.datetime.fromisoformat(f"{day} {clock}" if clock else day)
    if not zone:
        return moment
    return moment.replace(tzinfo=dt.UTC if zone == "UTC" else zoneinfo.ZoneInfo(zone))


def reader(trino_type: str) -> Callable[[str], Any]:
    """How to read a value of the column's type (`ColumnInfo[].Type`) from its text."""
    kind = trino_type.lower().split("(")[0].strip()
    if kind in _INTEGERS:
        return int
    if kind in _FLOATS:
        return _float
    if kind == "decimal":
        return decimal.Decimal
    if kind == "boolean":
        return _bool
    if kind == "date":
        return dt.date.fromisoformat
    if kind.startswith("timestamp"):
        return _timestamp
    return str


def row_values(data: list[dict[str, Any]], readers: list[Callable[[str], Any]]) -> tuple[Any, ...]:
    """One result row: each `VarCharValue` read by its column's type; a missing value is NULL."""
    return tuple(
        read(cell["VarCharValue"]) if "VarCharValue" in cell else None
        for cell, read in zip(data, readers, strict=True)
    )
