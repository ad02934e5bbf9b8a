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


def _value(col_name: str, col_type: str, signal: str, seq: int, ts: datetime) -> Any:
    ms = int(ts.timestamp() * 1000)
    if col_type == "timestamp":
        return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if col_type == "json":
        return json.dumps({"signal": signal, "seq": seq, "column": col_name}, sort_keys=True)
    if col_type == "bool":
        return seq % 2 == 0
    if col_type == "float64":
        return round(seq * 1.5 + 0.25, 6)
    if col_type in ("int64", "int32"):
        if col_name in ("observed_timestamp", "start_timestamp"):
            return ms
        if col_name == "end_timestamp":
            return ms + 250
        if col_name == "duration":
            return 250
        if col_name == "severity_number":
            return 9
        return seq % 1000
    return f"{col_name}-{seq}"


_FIXED: dict[str, str] = {
    "service_name": "otlp2pipeline-test",
    "severity_text": "INFO",
    "metric_name": "otlp2pipeline.test",
    "span_name": "otlp2pipeline-test-span",
}


def make_record(signal: str, run_id: str, seq: int, schema: TableSchema | None = None) -> dict[str, Any]:
    """One valid record of `signal`: every column of the contract, required and optional, filled."""
    schema = schema or load(signal)
    ts = _BASE + timedelta(milliseconds=seq)
    rec: dict[str, Any] = {}
    for col in schema.columns:
        if col.name == RUN_ID_COLUMN:
            rec[col.name] = record_key(run_id, seq)
        elif col.name in _FIXED:
            rec[col.name] = _FIXED[col.name]
        else:
            rec[col.name] = _value(col.name, col.type, signal, seq, ts)
    return rec


def make_records(signal: str, run_id: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    schema = load(signal)
    return [make_record(signal, run_id, seq, schema) for seq in range(start, start + count)]


def encode(record: dict[str, Any]) -> bytes:
    """Firehose record data: one JSON object, newline-terminated as the seed's sender does."""
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()
