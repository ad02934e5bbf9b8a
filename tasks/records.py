"""Test records per signal, built from the table contract (config/schemas/), as the bash scripts make them.

Each record carries its run id and its sequence number in `service_instance_id` as `RUN_ID:SEQ`, so a
reader can find every record of a run (prefix `RUN_ID:`) and spot a lost or duplicated one (by SEQ).

`timestamp` is integer epoch microseconds, UTC (otlp-tables.md; Firehose's Iceberg docs: "For Timestamp
data types, you must always send in microseconds"). A run id made by `new_run_id()` carries the time the
run started, to the microsecond (`run-20261201T102513.123456Z-1a2b3c4d5e6f`), and record SEQ is stamped
that start plus SEQ microseconds: the records land in today's partition, a "last 5 minutes" query finds
them, and values stay deterministic for (signal, run_id, seq), so a reader rebuilds the exact record it
expects from the run id alone. A run id without a start time (hand-made, e.g. `run-a` in tests) is
stamped from the fixed `LEGACY_START` instead.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from lake.schemas import TableSchema, load

RUN_ID_COLUMN = "service_instance_id"
# The start of a run id that carries none (the bash scripts' test date), in epoch microseconds.
LEGACY_START = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STARTED = re.compile(r"^run-(\d{8}T\d{6}\.\d{6})Z-[0-9a-f]+$")
_STARTED_FORMAT = "%Y%m%dT%H%M%S.%f"


def epoch_micros(when: datetime) -> int:
    """An aware datetime as integer epoch microseconds (exact: no float on the way)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Epoch microseconds as Iceberg `timestamp` reads back: a naive UTC datetime."""
    return datetime(1970, 1, 1) + timedelta(microseconds=micros)


def new_run_id(started: datetime | None = None) -> str:
    """A fresh run id carrying its start time (now, unless given) to the microsecond."""
    when = (started or datetime.now(UTC)).astimezone(UTC)
    return f"run-{when.strftime(_STARTED_FORMAT)}Z-{secrets.token_hex(6)}"


def run_started(run_id: str) -> datetime | None:
    """The start time a run id carries (aware, UTC), or None for a run id without one."""
    found = _STARTED.match(run_id)
    if found is None:
        return None
    return datetime.strptime(found.group(1), _STARTED_FORMAT).replace(tzinfo=UTC)


def start_micros(run_id: str) -> int:
    """Epoch microseconds of the run's start: what record 0's `timestamp` holds."""
    return epoch_micros(run_started(run_id) or LEGACY_START)


# The largest uint32 (OTLP's fixed32 `flags`, its dropped counts): test values of int64 columns count down
# from it, so each is >= 2^31 and does not fit the `int` these columns had before the contract widened them.
WIDE = 2**32 - 1


def record_key(run_id: str, seq: int) -> str:
    return f"{run_id}:{seq}"


def parse_key(value: str) -> tuple[str, int]:
    run_id, _, seq = value.rpartition(":")
    return run_id, int(seq)


def _column_plan(signal: str, schema: TableSchema) -> list[tuple[str, str, Any]]:
    """How each column's value is made: (column, kind, constant), worked out once per schema.

    `doit send count=100000` builds every record here; deciding per value what to do cost more than
    sending them (bench/run.py). The values are the same as ever: deterministic in (signal, run_id, seq).
    """
    plan: list[tuple[str, str, Any]] = []
    for col in schema.columns:
        name, kind = col.name, col.type
        if name == RUN_ID_COLUMN:
            plan.append((name, "key", None))
        elif name in _FIXED:
            plan.append((name, "const", _FIXED[name]))
        elif kind == "timestamp":
            plan.append((name, "timestamp", None))
        elif kind == "json":
            # json.dumps({"signal", "seq", "column"}, sort_keys=True), with only seq varying.
            head = '{"column": ' + json.dumps(name) + ', "seq": '
            plan.append((name, "json", (head, ', "signal": ' + json.dumps(signal) + "}")))
        elif kind == "bool":
            plan.append((name, "bool", None))
        elif kind == "float64":
            plan.append((name, "float", None))
        elif kind in ("int64", "int32"):
            if name in ("observed_timestamp", "start_timestamp"):
                plan.append((name, "ms", 0))
            elif name == "end_timestamp":
                plan.append((name, "ms", 250))
            elif name == "duration":
                plan.append((name, "const", 250))
            elif name == "severity_number":
                plan.append((name, "const", 9))
            elif kind == "int64":  # flags, dropped_*_count, counts: values of OTLP's uint32 range >= 2^31
                plan.append((name, "wide", None))
            else:
                plan.append((name, "mod", None))
        else:
            plan.append((name, "string", f"{name}-"))
    return plan


_FIXED: dict[str, str] = {
    "service_name": "otlp2pipeline-test",
    "severity_text": "INFO",
    "metric_name": "otlp2pipeline.test",
    "span_name": "otlp2pipeline-test-span",
}


def _record(run_id: str, seq: int, plan: list[tuple[str, str, Any]], started_us: int) -> dict[str, Any]:
    stamp = started_us + seq  # epoch microseconds
    ms = stamp // 1000
    rec: dict[str, Any] = {}
    for name, kind, const in plan:
        if kind == "const":
            rec[name] = const
        elif kind == "string":
            rec[name] = f"{const}{seq}"
        elif kind == "timestamp":
            rec[name] = stamp
        elif kind == "ms":
            rec[name] = ms + const
        elif kind == "json":
            rec[name] = f"{const[0]}{seq}{const[1]}"
        elif kind == "key":
            rec[name] = record_key(run_id, seq)
        elif kind == "bool":
            rec[name] = seq % 2 == 0
        elif kind == "float":
            rec[name] = round(seq * 1.5 + 0.25, 6)
        elif kind == "wide":  # an int64 column that is still int32 refuses them: Firehose fails the record
            rec[name] = WIDE - seq % 1000
        else:  # "mod"
            rec[name] = seq % 1000
    return rec


def make_record(signal: str, run_id: str, seq: int, schema: TableSchema | None = None) -> dict[str, Any]:
    """One valid record of `signal`: every column of the contract, required and optional, filled."""
    return _record(run_id, seq, _column_plan(signal, schema or load(signal)), start_micros(run_id))


def make_records(signal: str, run_id: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    plan = _column_plan(signal, load(signal))
    started_us = start_micros(run_id)
    return [_record(run_id, seq, plan, started_us) for seq in range(start, start + count)]


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(record: dict[str, Any]) -> bytes:
    """Firehose record data: one JSON object, newline-terminated as the bash scripts' sender does."""
    return (_ENCODER.encode(record) + "\n").encode()
