"""Value conversions shared by every signal's mapping (otlp-mapping.md: attributes, ids, time), and the
JSON text of each column type.

Attributes become one compact JSON object with sorted keys; a NaN or infinite double has no JSON form,
so its key (or array element) is left out; an empty object is null. Every JSON text here is exactly what
`json.dumps(value, separators=(",", ":"), allow_nan=False)` writes (sort_keys for the json columns), made
by the standard library's C encoder, kept once rather than built again for each row (bench/ingest.py).
"""

from __future__ import annotations

import base64
import json
import json.encoder
import math
from collections.abc import Callable, Iterable
from typing import Any

INT64_MAX = 2**63 - 1
TRACE_ID_BYTES = 16  # the OTLP proto: trace ids are 16 bytes, span ids 8
SPAN_ID_BYTES = 8

_SKIP = object()  # a double JSON cannot carry


class Refused(Exception):
    """This item cannot become a row; the message says why (it goes into partial_success)."""


def _json_encoder(sort_keys: bool) -> Callable[[Any], str]:
    """json.dumps(value, compact, allow_nan=False) as one reusable C encoder (JSONEncoder.encode makes a new
    one on every call, which costs more than encoding a small object)."""
    python = json.JSONEncoder(separators=(",", ":"), sort_keys=sort_keys, allow_nan=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover (CPython always has it)
        return python.encode
    c_encode = make(
        None, python.default, json.encoder.encode_basestring_ascii, None, ":", ",", sort_keys, False, False
    )
    return lambda value: "".join(c_encode(value, 0))


# Both refuse NaN and infinities with ValueError: a stray NaN must fail loudly, never become invalid JSON.
encode_sorted = _json_encoder(sort_keys=True)
encode_string = json.encoder.encode_basestring_ascii


def encode_float(value: float) -> str:
    if not math.isfinite(value):
        raise Refused("a value is NaN or infinite, which JSON cannot carry")
    return float.__repr__(value)


def encode_bool(value: bool) -> str:
    return "true" if value else "false"


# Contract type (config/schemas/) -> the JSON text of a column value of that type.
ENCODERS: dict[str, Callable[[Any], str]] = {
    "timestamp": int.__repr__,
    "int64": int.__repr__,
    "int32": int.__repr__,
    "float64": encode_float,
    "bool": encode_bool,
    "string": encode_string,
    "json": encode_string,
}


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


# A KeyValue's serialized bytes -> its member of a JSON object ('"key":value'), with its key; () when the
# value has no JSON form. Shared by the rows of one request (ingest.mapping.Received.members).
Members = dict[bytes, tuple[str, str] | tuple[()]]
MAX_MEMBERS = 4096
MAX_MEMBER_BYTES = 1024


def _member(kv: Any) -> tuple[str, str] | tuple[()]:
    v = kv.value
    kind = v.WhichOneof("value")
    key = kv.key
    if kind == "string_value":
        text = encode_string(v.string_value)
    elif kind == "int_value":
        text = int.__repr__(v.int_value)
    elif kind == "bool_value":
        text = "true" if v.bool_value else "false"
    else:
        x = any_value(v)
        if x is _SKIP:
            return ()
        text = encode_sorted(x)
    return key, encode_string(key) + ":" + text


def attributes_json(kvs: Any, members: Members | None = None) -> str | None:
    """The attributes as one JSON object, exactly as `encode_sorted(attributes(kvs))` writes it.

    Each attribute's JSON member is looked up by the KeyValue's serialized bytes (upb writes them in C,
    much faster than Python reads the fields), so a value that recurs in a request is converted once.
    """
    if not kvs:
        return None
    if members is None:
        members = {}
    found: dict[str, str] = {}
    for kv in kvs:
        raw = kv.SerializeToString()
        member = members.get(raw)
        if member is None:
            member = _member(kv)
            if len(raw) <= MAX_MEMBER_BYTES:
                if len(members) >= MAX_MEMBERS:
                    members.clear()  # bounded: a request of unique values does not grow it without end
                members[raw] = member
        if member:
            found[member[0]] = member[1]  # a key given twice: the last value, as in a dict
    if not found:
        return None
    return "{" + ",".join([found[key] for key in sorted(found)]) + "}"


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys, refusing NaN (Refused), for the json columns."""
    try:
        return encode_sorted(value)
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
    return None if v is _SKIP else encode_sorted(v)


def required_id(raw: bytes, size: int, what: str) -> str:
    """An id the proto requires (a span's own trace_id and span_id, a link's), as lowercase hex."""
    if len(raw) != size:
        raise Refused(f"{what} must be {size} bytes, not {len(raw)}")
    return raw.hex()


def optional_id(raw: bytes, size: int, what: str) -> str | None:
    """An optional id (a parent span, an exemplar's): null when empty, else exactly `size` bytes."""
    if not raw:
        return None
    if len(raw) != size:
        raise Refused(f"{what} must be {size} bytes or empty, not {len(raw)}")
    return raw.hex()


def optional_id_nonzero(raw: bytes, size: int, what: str) -> str | None:
    """A log record's ids: null when empty or all zero (no trace), else exactly `size` bytes."""
    hexed = optional_id(raw, size, what)
    return hexed if raw.strip(b"\0") else None


def int64(value: int, what: str) -> int:
    """An unsigned 64-bit count for an int64 column: above 2^63 - 1 it does not fit, and is refused."""
    if value > INT64_MAX:
        raise Refused(f"{what} {value} does not fit its int64 column (at most 2^63 - 1)")
    return value


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
                "trace_id": optional_id(ex.trace_id, TRACE_ID_BYTES, "an exemplar's trace_id"),
                "span_id": optional_id(ex.span_id, SPAN_ID_BYTES, "an exemplar's span_id"),
                "filtered_attributes": attributes(ex.filtered_attributes),
            }
        )
    return dumps(out)
