"""A query's results as Athena shows and stores them.

- ``ColumnInfo``: Trino's type names (``varchar``, ``bigint``, ``double``, ``timestamp``, ``decimal`` with
  its precision and scale, ``array``, ``map``, ``row``, ...), catalog ``hive``, ``Nullable`` ``UNKNOWN``.
- Values as Trino renders them to text: ``true``/``false``, doubles as Java prints them (``0.5``,
  ``1.0E10``), timestamps ``YYYY-MM-DD HH:MM:SS.ffffff`` (with `` UTC`` for a zoned one), arrays ``[a, b]``,
  maps and rows ``{k=v, ...}``; NULL is no value at all.
- ``<OutputLocation>/<QueryExecutionId>.csv``: the header, then every row, each field in double quotes
  (embedded quotes doubled), NULL an empty unquoted field; ``.csv.metadata`` beside it holds the column
  info (the local AWS's own JSON: Athena's is an undocumented binary format no client reads).
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_EPOCH = datetime.datetime(1970, 1, 1)
_SIMPLE = {
    "VARCHAR": ("varchar", 2147483647),
    "BIGINT": ("bigint", 19),
    "HUGEINT": ("bigint", 19),
    "UBIGINT": ("bigint", 19),
    "UINTEGER": ("bigint", 19),
    "INTEGER": ("integer", 10),
    "USMALLINT": ("integer", 10),
    "SMALLINT": ("smallint", 5),
    "UTINYINT": ("smallint", 5),
    "TINYINT": ("tinyint", 3),
    "DOUBLE": ("double", 17),
    "FLOAT": ("real", 7),
    "BOOLEAN": ("boolean", 0),
    "DATE": ("date", 0),
    "TIMESTAMP": ("timestamp", 6),
    "TIMESTAMP_NS": ("timestamp", 3),
    "TIMESTAMP_MS": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 6),
    "TIME": ("time", 3),
    "BLOB": ("varbinary", 2147483647),
    "UUID": ("uuid", 0),
    "INTERVAL": ("interval day to second", 0),
    "JSON": ("json", 0),
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def column_info(name: str, duck_type: str) -> dict[str, Any]:
    """Athena's ``ColumnInfo`` for a result column of DuckDB type ``duck_type``."""
    kind, precision, scale = _trino_type(duck_type)
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def _trino_type(duck_type: str) -> tuple[str, int, int]:
    upper = duck_type.strip().upper()
    if upper in _SIMPLE:
        kind, precision = _SIMPLE[upper]
        return kind, precision, 0
    match = _DECIMAL.match(upper)
    if match:
        return "decimal", int(match.group(1)), int(match.group(2))
    if upper.endswith("]"):
        return "array", 0, 0
    if upper.startswith("MAP("):
        return "map", 0, 0
    if upper.startswith("STRUCT("):
        return "row", 0, 0
    return upper.lower(), 0, 0


# -- values as text --------------------------------------------------------------------------------


def rows_as_text(table: pa.Table) -> Iterator[list[str | None]]:
    """Each row of ``table`` as Trino's text of each value (None for NULL)."""
    columns = [
        [_text(v, table.schema.field(i).type) for v in _values(table.column(i))]
        for i in range(table.num_columns)
    ]
    for i in range(table.num_rows):
        yield [col[i] for col in columns]


def _values(column: Any) -> list[Any]:
    """Python values, with timestamps as integers of their unit (no time zone library needed)."""
    import pyarrow as pa

    if pa.types.is_timestamp(column.type):
        return column.cast(pa.int64()).to_pylist()
    return column.to_pylist()


def _text(value: Any, kind: Any) -> str | None:
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_timestamp(kind):
        return _timestamp(int(value), kind.unit, kind.tz)
    return _render(value, kind)


def _render(value: Any, kind: Any) -> str:
    import pyarrow as pa

    if value is None:
        return "null"  # inside an array, map or row, as Trino prints it
    if isinstance(value, bool):
        return "true" if value else "false"
    if pa.types.is_float32(kind):
        return _java_float(float(value))
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if pa.types.is_timestamp(kind):
        micros = int((value.replace(tzinfo=None) - _EPOCH) / datetime.timedelta(microseconds=1))
        return _timestamp(micros, "us", kind.tz)
    if pa.types.is_map(kind):
        return (
            "{"
            + ", ".join(f"{_render(k, kind.key_type)}={_render(v, kind.item_type)}" for k, v in value)
            + "}"
        )
    if pa.types.is_struct(kind):
        parts = [
            f"{kind.field(i).name}={_render(value.get(kind.field(i).name), kind.field(i).type)}"
            for i in range(kind.num_fields)
        ]
        return "{" + ", ".join(parts) + "}"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return "[" + ", ".join(_render(v, kind.value_type) for v in value) + "]"
    return str(value)


def _timestamp(value: int, unit: str, tz: str | None) -> str:
    per_second = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    seconds, fraction = divmod(value, per_second)
    micros = fraction * 1_000_000 // per_second
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    text = f"{moment:%Y-%m-%d %H:%M:%S}.{micros:06d}"
    return f"{text} UTC" if tz else text


def _java_double(value: float) -> str:
    """Java's ``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE±n``; shortest digits."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return _java_digits(repr(value), value)


def _java_float(value: float) -> str:
    """Java's ``Float.toString``: the shortest digits that read back as the same 32-bit float."""
    if value != value or value in (float("inf"), float("-inf")):
        return _java_double(value)
    target = struct.pack("<f", value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack("<f", float(text)) == target:
            return _java_digits(text, value)
    return _java_digits(repr(value), value)


def _java_digits(shortest: str, value: float) -> str:
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign, digits, exponent = decimal.Decimal(shortest).normalize().as_tuple()
    text_digits = "".join(map(str, digits))
    point = len(text_digits) + int(exponent)  # where the decimal point falls among the digits
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{text_digits}"
        whole, frac = text_digits[:point].ljust(point, "0"), text_digits[point:]
        return f"{prefix}{whole}.{frac or '0'}"
    mantissa = f"{text_digits[0]}.{text_digits[1:] or '0'}"
    return f"{prefix}{mantissa}E{point - 1}"


# -- the files ---------------------------------------------------------------------------------------


def _field(value: str | None) -> str:
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def csv_bytes(header: list[str] | None, rows: list[list[str | None]]) -> bytes:
    lines = [",".join(_field(v) for v in header)] if header is not None else []
    lines += [",".join(_field(v) for v in row) for row in rows]
    return "".join(line + "\n" for line in lines).encode()


def parse_csv(data: bytes) -> list[list[str | None]]:
    """Athena's CSV read back: a quoted field is a value (``""`` the empty string), an empty one NULL."""
    text = data.decode()
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j, chunk = i + 1, []
            while True:
                k = text.index('"', j)
                chunk.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    chunk.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(chunk))
        else:
            row.append(None)
        if i >= n or text[i] == "\n":
            rows.append(row)
            row = []
        i += 1
    return rows


def metadata_bytes(columns: list[dict[str, Any]]) -> bytes:
    return json.dumps({"ColumnInfo": columns}).encode()


def parse_metadata(data: bytes) -> list[dict[str, Any]]:
    return list(json.loads(data.decode())["ColumnInfo"])
