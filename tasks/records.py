"""Test records per signal, built from the table contract (config/schemas/), like the seed's test records.

Each record carries its run id and its sequence number in `service_instance_id` as `RUN_ID:SEQ`, so a
reader can find every record of a run (prefix `RUN_ID:`) and spot a lost or duplicated one (by SEQ).
Values are deterministic for (signal, run_id, seq), so a reader can rebuild the exact record it expects.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks.schemas import TableSchema, load

RUN_ID_COLUMN = "service_instance_id"
_BASE = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


def new_run_id() -> str:
    return "run-" + secrets.token_hex(6)


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


def _record(run_id: str, seq: int, plan: list[tuple[str, str, Any]]) -> dict[str, Any]:
    ts = _BASE + timedelta(milliseconds=seq)
    ms = int(ts.timestamp() * 1000)
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
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
        else:  # "mod"
            rec[name] = seq % 1000
    return rec


def make_record(signal: str, run_id: str, seq: int, schema: TableSchema | None = None) -> dict[str, Any]:
    """One valid record of `signal`: every column of the contract, required and optional, filled."""
    return _record(run_id, seq, _column_plan(signal, schema or load(signal)))


def make_records(signal: str, run_id: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    plan = _column_plan(signal, load(signal))
    return [_record(run_id, seq, plan) for seq in range(start, start + count)]


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(record: dict[str, Any]) -> bytes:
    """Firehose record data: one JSON object, newline-terminated as the seed's sender does."""
    return (_ENCODER.encode(record) + "\n").encode()
