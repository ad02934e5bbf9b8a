"""Value conversions shared by every signal's mapping (otlp-mapping.md: attributes, ids, time).

Attributes become one compact JSON object with sorted keys; a NaN or infinite double has no JSON form,
so its key (or array element) is left out; an empty object is null.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from typing import Any

# allow_nan=False: a stray NaN must fail loudly (the row is refused), never become invalid JSON.
ROW_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_SORTED_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)

_SKIP = object()  # a double JSON cannot carry


class Refused(Exception):
    """This item cannot become a row; the message says why (it goes into partial_success)."""


def any_value(value: Any) -> Any:
    """An AnyValue as a JSON-ready Python value (_SKIP for a non-finite double)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        d = value.double_value
        return d if math.isfinite(d) else _SKIP
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        items = [any_value(v) for v in value.array_value.values]
        return [v for v in items if v is not _SKIP]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values) or {}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def attributes(kvs: Iterable[Any]) -> dict[str, Any] | None:
    """KeyValue list -> dict (non-finite doubles left out); None when empty.

    The scalar kinds are inlined: this runs once per attribute of every row (bench/ingest.py).
    """
    out: dict[str, Any] = {}
    for kv in kvs:
        v = kv.value
        kind = v.WhichOneof("value")
        if kind == "string_value":
            out[kv.key] = v.string_value
        elif kind == "int_value":
            out[kv.key] = v.int_value
        elif kind == "bool_value":
            out[kv.key] = v.bool_value
        else:
            x = any_value(v)
            if x is not _SKIP:
                out[kv.key] = x
    return out or None


def attributes_json(kvs: Any) -> str | None:
    if not kvs:
        return None
    obj = attributes(kvs)
    return _SORTED_ENCODER.encode(obj) if obj else None


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys, refusing NaN (Refused), for the json columns."""
    try:
        return _SORTED_ENCODER.encode(value)
    except ValueError:
        raise Refused("a value is NaN or infinite, which JSON cannot carry") from None


def body_value(value: Any) -> str | None:
    """A log body: a string as is, any other AnyValue as its JSON form; null when absent or empty."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return value.string_value or None
    v = any_value(value)
    return None if v is _SKIP else _SORTED_ENCODER.encode(v)


def hex_id(raw: bytes) -> str | None:
    return raw.hex() if raw else None


def hex_id_nonzero(raw: bytes) -> str | None:
    return raw.hex() if raw and raw.strip(b"\0") else None


def finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise Refused(f"{what} is NaN or infinite, which JSON cannot carry")
    return value


def exemplars_json(exemplars: Any) -> str | None:
    if not exemplars:
        return None
    out = []
    for ex in exemplars:
        kind = ex.WhichOneof("value")
        value: float | None = (
            ex.as_double if kind == "as_double" else float(ex.as_int) if kind == "as_int" else None
        )
        out.append(
            {
                "timestamp": ex.time_unix_nano // 1000,
                "value": value if value is None or math.isfinite(value) else None,
                "trace_id": hex_id(ex.trace_id),
                "span_id": hex_id(ex.span_id),
                "filtered_attributes": attributes(ex.filtered_attributes),
            }
        )
    return dumps(out)
