"""A request's rows built slice by slice: the parsed message of a whole request is never held at once.

Parsed, an OTLP protobuf request takes about 2.5x its wire size (protobuf's upb runtime: small log records
with ten attributes), and the rows built from it another 1.5x; holding both for a 6 MiB request cost more
than 4x its size (bench/ingest.py). The three Export*ServiceRequest messages share one shape on the wire:

    request  { 1: resource group (repeated) }
    resource { 1: resource, 2: scope group (repeated), 3: schema_url }
    scope    { 1: scope, 2: item (repeated: a log record, a span, a metric), 3: schema_url }

so a protobuf body is cut on the wire into slices of at most SLICE_BYTES of items, each a valid request of
the same kind holding its items with every other field of their resource and scope group (the same bytes,
so parsing a slice gives those items exactly what parsing the whole would). Each slice is parsed and
mapped in turn, and its message dropped before the next. Every slice is parsed before anything is handed
on, so a body that is not valid protobuf anywhere is still a 400 with nothing sent. A body whose framing
is not the expected shape (or an OTLP/JSON one) is parsed whole, as before: the outcome is the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf.message import Message

from ingest import decode
from ingest.mapping import MAPPERS, Received, Rows

SLICE_BYTES = 64 * 1024
_LEN = 2  # the wire type of a length-delimited field (a message, bytes, a string)


class _NotOtlpShape(Exception):
    """The body's framing is not the shape above: parse it whole and let protobuf say what it is."""


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _NotOtlpShape
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, memoryview, memoryview]]:
    """(field number, wire type, the field's whole bytes, its value's bytes) of each field in `buf`."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, end = _read_varint(buf, pos)
        elif wire == 1:
            end = pos + 8
        elif wire == 5:
            end = pos + 4
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos)
            end = pos + size
        else:  # groups (3, 4: deprecated) and invalid wire types
            raise _NotOtlpShape
        if number == 0 or end > len(buf):
            raise _NotOtlpShape
        yield number, wire, buf[start:end], buf[pos:end]
        pos = end


def _message(number: int, parts: list[bytes]) -> bytes:
    """A length-delimited field `number` holding `parts`."""
    size = sum(len(p) for p in parts)
    return decode.varint(number << 3 | _LEN) + decode.varint(size) + b"".join(parts)


@dataclass
class _Scope:
    key: tuple[int, int]  # (resource group, scope group) in wire order
    header: bytes  # every field of the scope group but its items
    items: list[bytes] = field(default_factory=list)


@dataclass
class _Resource:
    key: int
    header: bytes  # every field of the resource group but its scope groups
    scopes: list[_Scope] = field(default_factory=list)


class _Slice:
    """The items of one slice, under their resource and scope groups."""

    def __init__(self) -> None:
        self.resources: list[_Resource] = []
        self.size = 0

    def add(self, key: tuple[int, int], resource: bytes, scope: bytes | None, item: bytes | None) -> None:
        """An item of group `key`; scope or item None for a group without any (kept, for fidelity)."""
        if not self.resources or self.resources[-1].key != key[0]:
            self.resources.append(_Resource(key[0], resource))
        groups = self.resources[-1].scopes
        if scope is None:
            return
        if not groups or groups[-1].key != key:
            groups.append(_Scope(key, scope))
        if item is not None:
            groups[-1].items.append(item)
            self.size += len(item)

    def encode(self, top: bytes) -> bytes:
        groups = (
            _message(1, [r.header, *(_message(2, [s.header, *s.items]) for s in r.scopes)])
            for r in self.resources
        )
        return top + b"".join(groups)


def _header(value: memoryview, child: int) -> bytes:
    """Every field of a message but its `child` groups (or items), as they are on the wire."""
    return b"".join(
        bytes(whole) for number, wire, whole, _ in _fields(value) if (number, wire) != (child, _LEN)
    )


def _children(value: memoryview, child: int) -> Iterator[memoryview]:
    """A message's `child` fields, whole (`whole`) or their values, read as they come: never listed, so
    the views of a scope's thousands of items are not all held at once."""
    return (whole for number, wire, whole, _ in _fields(value) if (number, wire) == (child, _LEN))


def _values(value: memoryview, child: int) -> Iterator[memoryview]:
    return (inner for number, wire, _, inner in _fields(value) if (number, wire) == (child, _LEN))


def split(body: bytes | bytearray, limit: int = SLICE_BYTES) -> Iterator[bytes]:
    """The body as requests of the same kind, each with at most `limit` bytes of items (or one item, when
    it alone is larger), in wire order; raises _NotOtlpShape when the framing is not OTLP's."""
    view = memoryview(body)
    top = _header(view, 1)  # fields of the request other than its resource groups (none in OTLP)
    current = _Slice()
    for r, resource_value in enumerate(_values(view, 1)):
        resource = _header(resource_value, 2)
        current.add((r, -1), resource, None, None)
        for s, scope_value in enumerate(_values(resource_value, 2)):
            scope = _header(scope_value, 2)
            current.add((r, s), resource, scope, None)
            for whole in _children(scope_value, 2):
                if current.size and current.size + len(whole) > limit:
                    yield current.encode(top)
                    current = _Slice()
                current.add((r, s), resource, scope, bytes(whole))
    if current.resources or top:
        yield current.encode(top)


def _merge(into: Rows, part: Rows) -> None:
    for signal, records in part.records.items():
        into.records.setdefault(signal, []).extend(records)
    into.rejected += part.rejected
    into.reasons.update(part.reasons)


@dataclass(frozen=True)
class Checked:
    """A body read to its end: every slice parses, and its items are within the limit. Its rows are then
    made a slice at a time (`rows`), so a caller can hand each slice's rows on before the next is made and
    never hold the rows of the whole request."""

    path: str
    media: decode.MediaType
    body: bytes | bytearray
    slice_bytes: int
    whole: Message | None  # the body parsed at once: OTLP/JSON, a small body, or not OTLP's framing

    def rows(self, signals: tuple[str, ...], rx: Received) -> Iterator[Rows]:
        mapper = MAPPERS[self.path]
        if self.whole is not None:
            yield mapper(self.whole, signals, rx)
            return
        for piece in split(self.body, self.slice_bytes):  # read to its end once already: it splits
            yield mapper(decode.parse(self.path, self.media, piece), signals, rx)


def check(
    path: str,
    media: decode.MediaType,
    body: bytes | bytearray,
    slice_bytes: int = SLICE_BYTES,
    max_rows: int | None = None,
) -> Checked:
    """Every slice of a (decompressed) body parsed and dropped: decode.BadRequest when any of it cannot be
    read, decode.TooLarge as soon as it holds more than `max_rows` items (counted slice by slice, so a
    request over the limit costs at most the limit's work). Nothing is mapped yet, so a body refused here
    has had nothing handed on."""
    if media.is_json or len(body) <= slice_bytes:
        return Checked(path, media, body, slice_bytes, decode.parse(path, media, body, max_rows))
    items = 0
    try:
        for piece in split(body, slice_bytes):
            items += decode.count_items(path, decode.parse(path, media, piece))
            decode.too_many(items, max_rows)
    except _NotOtlpShape:  # found part way: the whole is parsed, as protobuf would read it
        return Checked(path, media, body, slice_bytes, decode.parse(path, media, body, max_rows))
    return Checked(path, media, body, slice_bytes, None)


def convert(
    path: str,
    media: decode.MediaType,
    body: bytes | bytearray,
    signals: tuple[str, ...],
    rx: Received,
    slice_bytes: int = SLICE_BYTES,
    max_rows: int | None = None,
) -> Rows:
    """All the rows of a (decompressed) request body at once (check(), then every slice's rows)."""
    rows = Rows()
    for part in check(path, media, body, slice_bytes, max_rows).rows(signals, rx):
        _merge(rows, part)
    return rows
