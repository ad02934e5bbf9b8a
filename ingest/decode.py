"""OTLP/HTTP request bodies into opentelemetry-proto messages, and responses back into bytes.

Binary protobuf is parsed by the protobuf runtime. OTLP/JSON differs from protobuf's canonical JSON in
one way that matters: `traceId`/`spanId`/`parentSpanId` are hex, where `json_format` expects base64 (and
would silently decode hex digits as base64 into wrong ids). So the JSON document is parsed with the
standard library, those ids are turned from hex into base64, and then `json_format.ParseDict` does the
rest (lowerCamelCase names, 64-bit integers as strings or numbers, integer enums).
"""

from __future__ import annotations

import base64
import json
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

_HEX_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
_CHUNK = 64 * 1024


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


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as sent, gunzipped when `Content-Encoding: gzip`; never more than `limit` bytes.

    Decompression is incremental and stops as soon as the output passes the limit, so a small gzip
    body cannot expand without bound in memory.
    """
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        if len(body) > limit:
            raise TooLarge(f"request body of {len(body)} bytes exceeds the limit of {limit} bytes")
        return body
    if enc != "gzip":
        raise BadRequest(f"Content-Encoding {encoding!r} is not supported: use gzip or none")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    data = body
    try:
        while data:
            out += inflater.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise TooLarge(f"decompressed request body exceeds the limit of {limit} bytes")
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
        if not inflater.eof:
            raise BadRequest("gzip body is truncated")
    except zlib.error as exc:
        raise BadRequest(f"gzip body cannot be decompressed: {exc}") from None
    return bytes(out)


def _hex_ids_to_base64(node: Any) -> None:
    """Rewrite OTLP/JSON's hex ids in place into the base64 that json_format reads for `bytes` fields."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _HEX_ID_KEYS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise BadRequest(f"{key} {value[:40]!r} is not a hex string") from None
            elif isinstance(value, dict | list):
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _hex_ids_to_base64(item)


def parse(path: str, media: MediaType, body: bytes) -> Message:
    """The Export*ServiceRequest of `path` from a (decompressed) body; BadRequest when it cannot be read."""
    request_type = SIGNAL_PATHS[path][0]
    message = request_type()
    if media.is_json:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise BadRequest(f"body is a JSON {type(doc).__name__}: an OTLP/JSON request is an object")
        _hex_ids_to_base64(doc)
        try:
            json_format.ParseDict(doc, message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError) as exc:
            raise BadRequest(f"body is not an OTLP/JSON {request_type.__name__}: {exc}") from None
        return message
    try:
        message.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise BadRequest(f"body is not a protobuf {request_type.__name__}: {exc}") from None
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
