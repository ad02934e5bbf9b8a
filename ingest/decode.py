"""OTLP/HTTP request bodies into opentelemetry-proto messages, and responses back into bytes.

Binary protobuf is parsed by the protobuf runtime. OTLP/JSON differs from protobuf's canonical JSON in
one way that matters: `traceId`/`spanId`/`parentSpanId` are hex, where `json_format` expects base64 (and
would silently decode hex digits as base64 into wrong ids). So the JSON document is parsed with the
standard library, those ids are turned from hex into base64, and then `json_format.ParseDict` does the
rest (lowerCamelCase names, 64-bit integers as strings or numbers, integer enums).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

# OTLP/HTTP paths -> (request message, response message, partial_success counter field)
SIGNAL_PATHS: dict[str, tuple[type[Message], type[Message], str]] = {
    "/v1/traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "rejected_spans",
    ),
    "/v1/logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "rejected_log_records",
    ),
    "/v1/metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
    ),
}

# OTLP/JSON's hex ids, in both spellings protobuf's JSON parser accepts (lowerCamelCase and the proto name).
_HEX_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
GZIP_MAGIC = b"\x1f\x8b"
# JSON objects and arrays nested deeper than this are refused before the message is built. Each message
# level of OTLP/JSON is at most two levels of JSON (an object, and the array of a repeated field), so
# this is twice the message nesting protobuf's parsers accept (100, upb's and json_format's default):
# nothing protobuf would accept is refused as JSON.
MAX_JSON_DEPTH = 200

# Where the items (one row each) of a request are: the repeated fields from the request down, and for
# metrics the data points under each metric's data (whatever its type).
ITEM_PATHS: dict[str, tuple[str, ...]] = {
    "/v1/traces": ("resource_spans", "scope_spans", "spans"),
    "/v1/logs": ("resource_logs", "scope_logs", "log_records"),
    "/v1/metrics": ("resource_metrics", "scope_metrics", "metrics"),
}
METRIC_DATA = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


class BadRequest(Exception):
    """Nothing a retry can fix: answered with 400 and this message."""


class TooLarge(Exception):
    """The body is over the limit (after decompression): answered with 413."""


@dataclass(frozen=True)
class MediaType:
    kind: str  # PROTOBUF or JSON

    @property
    def is_json(self) -> bool:
        return self.kind == JSON


def media_type(content_type: str | None) -> MediaType | None:
    """The request's format from Content-Type (parameters such as charset ignored); None if unsupported."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return MediaType(base) if base in (PROTOBUF, JSON) else None


INFLATE_CHUNK = 256 * 1024


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes | bytearray:
    """The body as sent, gunzipped when `Content-Encoding: gzip`; never more than `limit` bytes.

    A gzip body may hold several members, one after the other (RFC 1952 section 2.2): all of them are the
    body. Bytes after the last member that do not start another member are refused. Decompression is
    incremental and stops as soon as the output passes the limit, so a small gzip body cannot expand
    without bound in memory. It inflates into one buffer a chunk at a time and returns that buffer, not a
    copy: a whole-body chunk and a final copy each cost the body's size again, per request in flight.
    """
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        if len(body) > limit:
            raise TooLarge(f"request body of {len(body)} bytes exceeds the limit of {limit} bytes")
        return body
    if enc != "gzip":
        raise BadRequest(f"Content-Encoding {encoding!r} is not supported: use gzip or none")
    out = bytearray()
    data = body
    members = 0
    try:
        while True:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while not inflater.eof:
                chunk = inflater.decompress(data, min(INFLATE_CHUNK, limit + 1 - len(out)))
                out += chunk
                if len(out) > limit:
                    raise TooLarge(f"decompressed request body exceeds the limit of {limit} bytes")
                data = inflater.unconsumed_tail
                if not data and not chunk:  # no input left and nothing more comes out: it ends early
                    break
            if not inflater.eof:
                raise BadRequest(f"gzip body is truncated (in member {members + 1})")
            members += 1
            data = inflater.unused_data
            if not data:
                return out
            if not data.startswith(GZIP_MAGIC):
                raise BadRequest(f"{len(data)} bytes after gzip member {members} are not another gzip member")
    except zlib.error as exc:
        raise BadRequest(f"gzip body cannot be decompressed: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _proto_name(key: str) -> str:
    """The proto field name a JSON key stands for: `traceId` -> `trace_id` (json_format accepts both)."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), key)


_UPPER = re.compile(r"[A-Z]")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object, refusing a key given twice, or in both its lowerCamelCase and proto spelling:
    json_format (and json.loads) would keep only the last value, and the other would be lost."""
    obj = dict(pairs)
    if len(pairs) < 2:
        return obj
    if len(obj) == len(pairs) and len({_proto_name(k) for k in obj}) == len(obj):
        return obj
    seen: dict[str, str] = {}
    for key, _ in pairs:
        name = _proto_name(key)
        if name in seen:
            twice = f"{key!r} twice" if seen[name] == key else f"both {seen[name]!r} and {key!r}"
            raise BadRequest(f"a JSON object has {twice[:120]}: each field may be given once")
        seen[name] = key
    return obj  # pragma: no cover (a duplicate is always found above)


def _prepare(doc: dict[str, Any]) -> None:
    """Check the nesting depth and turn OTLP/JSON's hex ids into the base64 json_format reads for `bytes`
    fields, in one pass without recursion (a deep document must get its 400, not a RecursionError)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _HEX_ID_KEYS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError:
                        raise BadRequest(f"{key} {value[:40]!r} is not a hex string") from None
                elif isinstance(value, dict | list):
                    stack.append((value, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list))


def _field(obj: Any, name: str) -> Any:
    """A field of a JSON object by its proto name or its lowerCamelCase name (never both: see _object)."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(name)
    if value is None and "_" in name:
        head, *rest = name.split("_")
        value = obj.get(head + "".join(part.capitalize() for part in rest))
    return value


def _json_items(path: str, doc: dict[str, Any]) -> int:
    """The items (spans, log records, data points) an OTLP/JSON request holds, before it is built."""
    level: list[Any] = [doc]
    for name in ITEM_PATHS[path]:
        below: list[Any] = []
        for obj in level:
            items = _field(obj, name)
            if isinstance(items, list):
                below += items
        level = below
    if path != "/v1/metrics":
        return len(level)
    return sum(
        len(points)
        for metric in level
        for kind in METRIC_DATA
        if isinstance(points := _field(_field(metric, kind), "data_points"), list)
    )


def count_items(path: str, message: Message) -> int:
    """The items (spans, log records, data points) of a parsed request: the rows it can become."""
    level: list[Any] = [message]
    for name in ITEM_PATHS[path]:
        level = [x for obj in level for x in getattr(obj, name)]
    if path != "/v1/metrics":
        return len(level)
    total = 0
    for metric in level:
        kind = metric.WhichOneof("data")
        if kind:
            total += len(getattr(metric, kind).data_points)
    return total


def too_many(n: int, max_rows: int | None) -> None:
    """TooLarge when `n` items are more than `max_rows` (None: no limit)."""
    if max_rows is not None and n > max_rows:
        raise TooLarge(
            f"the request holds {n} items (spans, log records or data points): "
            f"more than the limit of {max_rows} per request; send smaller batches"
        )


def parse(path: str, media: MediaType, body: bytes | bytearray, max_rows: int | None = None) -> Message:
    """The Export*ServiceRequest of `path` from a (decompressed) body; BadRequest when it cannot be read,
    TooLarge when it holds more than `max_rows` items."""
    request_type = SIGNAL_PATHS[path][0]
    message = request_type()
    if media.is_json:
        try:
            doc = json.loads(body, object_pairs_hook=_object)
        except RecursionError:
            raise BadRequest(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise BadRequest(f"body is a JSON {type(doc).__name__}: an OTLP/JSON request is an object")
        _prepare(doc)
        too_many(_json_items(path, doc), max_rows)
        try:
            json_format.ParseDict(doc, message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError) as exc:
            raise BadRequest(f"body is not an OTLP/JSON {request_type.__name__}: {exc}") from None
        return message
    try:
        message.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise BadRequest(f"body is not a protobuf {request_type.__name__}: {exc}") from None
    too_many(count_items(path, message), max_rows)
    return message


def encode_response(path: str, media: MediaType, rejected: int, error_message: str) -> bytes:
    """The Export*ServiceResponse, with partial_success set only when something was refused."""
    _, response_type, field = SIGNAL_PATHS[path]
    response = response_type()
    if rejected or error_message:
        partial = response.partial_success
        setattr(partial, field, rejected)
        partial.error_message = error_message
    if media.is_json:
        return json_format.MessageToJson(response, indent=None).encode()
    return bytes(response.SerializeToString())


# google.rpc.Status codes for the error bodies (the OTLP/HTTP spec's failure body).
RPC_INVALID_ARGUMENT = 3
RPC_RESOURCE_EXHAUSTED = 8
RPC_UNAUTHENTICATED = 16
RPC_UNAVAILABLE = 14
RPC_UNIMPLEMENTED = 12
RPC_NOT_FOUND = 5


def varint(n: int) -> bytes:
    """n as a protobuf base-128 varint (ingest/slices.py frames its slices with it too)."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_status(code: int, message: str, json_body: bool) -> bytes:
    """A google.rpc.Status {code, message}, written by hand: opentelemetry-proto does not ship its type."""
    if json_body:
        return json.dumps({"code": code, "message": message}, separators=(",", ":")).encode()
    text = message.encode()
    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text
