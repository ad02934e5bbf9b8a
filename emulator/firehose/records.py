"""JSON records to Arrow rows of the table's schema, with per-record failures (never a whole-batch one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulator.admin import options
from emulator.firehose.data import Failure, Pending
from emulator.firehose.errors import (
    ERR_BAD_JSON,
    ERR_MISSING_COLUMN,
    ERR_TIMESTAMP,
    ERR_TYPE,
    ERR_UNKNOWN_COLUMN,
)

if TYPE_CHECKING:  # pyarrow loads with the first delivery, not at emulator start-up
    import pyarrow as pa

_INT32 = (-(2**31), 2**31 - 1)

_INT64 = (-(2**63), 2**63 - 1)

_EPOCH = datetime(1970, 1, 1)


class RecordConverter:
    """JSON records -> rows of the table's schema, with per-record failures (never a whole-batch one)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.arrow_schema = schema.as_arrow()
        self.columns: list[tuple[str, str, bool]] = [
            (f.name, str(f.field_type), bool(f.required)) for f in schema.fields
        ]
        self.names = frozenset(name for name, _kind, _required in self.columns)

    def fast(self, items: list[Pending]) -> pa.Table | None:
        """The whole batch through Arrow's C JSON reader, or None when any record needs a closer look.

        Only taken when every record is one line, Arrow parses them all under the table's schema (no key
        that is not a column) and no required column is null: then it accepts exactly what ``convert``
        accepts, about 10x faster.
        """
        import pyarrow as pa
        import pyarrow.json as pa_json

        lines = []
        for item in items:
            data = item.data.rstrip()
            if not data or b"\n" in data or b"\r" in data:
                return None
            lines.append(data)
        if options.lenient_timestamps():
            return None  # a timestamp may be a string or a number, record by record: convert() decides
        # Timestamps are read as the integers they must be (a string fails the read: convert() then
        # refuses exactly those records), then cast to microseconds.
        read_schema = pa.schema(
            [
                pa.field(f.name, pa.int64() if pa.types.is_timestamp(f.type) else f.type, nullable=True)
                for f in self.arrow_schema
            ]
        )
        try:
            table = pa_json.read_json(
                pa.py_buffer(b"\n".join(lines) + b"\n"),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=1 << 26),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=read_schema, unexpected_field_behavior="error"
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        if table.num_rows != len(items):
            return None
        for name, _kind, required in self.columns:
            if required and table.column(name).null_count:
                return None
        return pa.Table.from_arrays(
            [table.column(f.name).cast(f.type) for f in self.arrow_schema], schema=self.arrow_schema
        )

    def convert(self, items: list[Pending]) -> tuple[list[tuple[Pending, list[Any]]], list[Failure]]:
        good: list[tuple[Pending, list[Any]]] = []
        bad: list[Failure] = []
        columns = self.columns
        loads = json.loads
        for item in items:
            try:
                obj = loads(item.data)
            except (ValueError, UnicodeDecodeError) as exc:
                bad.append(Failure(item, ERR_BAD_JSON, f"Record is not valid JSON: {exc}"))
                continue
            if not isinstance(obj, dict):
                bad.append(
                    Failure(item, ERR_BAD_JSON, "Record must be a JSON object whose keys are column names.")
                )
                continue
            unknown = [key for key in obj if key not in self.names]
            if unknown:
                listed = ", ".join(sorted(unknown)[:5])
                bad.append(
                    Failure(
                        item,
                        ERR_UNKNOWN_COLUMN,
                        f"Record has fields that are not columns of the table: {listed}. Add the columns "
                        "to the table (or enable schema evolution) before sending them.",
                    )
                )
                continue
            row: list[Any] = []
            error: tuple[str, str] | None = None
            for name, kind, required in columns:
                value = obj.get(name)
                if value is None:
                    if required:
                        error = (
                            ERR_MISSING_COLUMN,
                            f"Required column {name} is missing or null in the record.",
                        )
                        break
                    row.append(None)
                    continue
                converted = _convert_value(kind, value)
                if converted is _BAD and kind in ("timestamp", "timestamptz"):
                    error = (ERR_TIMESTAMP, _timestamp_message(name, value))
                    break
                if converted is _BAD:
                    error = (ERR_TYPE, f"Column {name} of type {kind} cannot hold the value {_short(value)}.")
                    break
                row.append(converted)
            if error is not None:
                bad.append(Failure(item, error[0], error[1]))
            else:
                good.append((item, row))
        return good, bad

    def to_arrow(self, good: list[tuple[Pending, list[Any]]]) -> pa.Table:
        import pyarrow as pa

        arrays = []
        for i, f in enumerate(self.arrow_schema):
            values = [row[i] for _, row in good]
            arrays.append(pa.array(values, type=f.type))
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)


_BAD = object()


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _timestamp_message(name: str, value: Any) -> str:
    return (
        f'Column {name} of type timestamp needs integer epoch microseconds (Firehose: "For Timestamp data '
        f'types, you must always send in microseconds"), not {_short(value)}.'
    )


def _parse_timestamp_micros(value: Any) -> Any:
    """Integer epoch microseconds; ISO-8601 strings only with the lenient_timestamps option."""
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else _BAD
    if not isinstance(value, str) or not options.lenient_timestamps():
        return _BAD
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _BAD
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    delta = parsed - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _convert_value(kind: str, value: Any) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else _BAD
    if kind == "long":
        if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
            return value
        return _BAD
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and _INT32[0] <= value <= _INT32[1]:
            return value
        return _BAD
    if kind in ("double", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return _BAD
    if kind == "boolean":
        return value if isinstance(value, bool) else _BAD
    if kind in ("timestamp", "timestamptz"):
        return _parse_timestamp_micros(value)
    if kind == "date":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return (datetime.fromisoformat(value[:10]) - _EPOCH).days
            except ValueError:
                return _BAD
        return _BAD
    return _BAD  # types the OTLP tables do not use (binary, decimal, uuid, time, nested)
