"""A minimal CBOR (RFC 8949) codec for the smithy-rpc-v2-cbor protocol (CloudWatch's), which botocore speaks.

Only what request bodies and error responses need: integers, floats (half, single, double), strings, bytes,
lists, maps (definite and indefinite length), true/false/null and epoch timestamps (tag 1).
"""

from __future__ import annotations

import struct
from typing import Any


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 0x100000000:
        return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)


def cbor_encode(value: Any) -> bytes:
    import datetime

    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        return _head(3, len(data)) + data
    if isinstance(value, bytes | bytearray):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, datetime.datetime):
        return b"\xc1" + cbor_encode(value.timestamp())
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor_encode(str(k)) + cbor_encode(v) for k, v in value.items())
    raise TypeError(f"cannot CBOR-encode {type(value).__name__}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def arg(self, info: int) -> int | None:
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int(struct.unpack(">H", self.take(2))[0])
        if info == 26:
            return int(struct.unpack(">I", self.take(4))[0])
        if info == 27:
            return int(struct.unpack(">Q", self.take(8))[0])
        if info == 31:
            return None  # indefinite length
        raise ValueError("bad CBOR length")

    def item(self) -> Any:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if major == 7:
            if info == 20:
                return False
            if info == 21:
                return True
            if info in (22, 23):
                return None
            if info == 25:
                return _half(self.take(2))
            if info == 26:
                return struct.unpack(">f", self.take(4))[0]
            if info == 27:
                return struct.unpack(">d", self.take(8))[0]
            if info == 31:
                return _BREAK
            raise ValueError("bad CBOR simple value")
        n = self.arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - (n or 0)
        if major in (2, 3):
            if n is None:
                chunks = []
                while (chunk := self.item()) is not _BREAK:
                    chunks.append(chunk)
                return (b"" if major == 2 else "").join(chunks)
            raw = self.take(n)
            return raw if major == 2 else raw.decode()
        if major == 4:
            items = []
            if n is None:
                while (x := self.item()) is not _BREAK:
                    items.append(x)
            else:
                items = [self.item() for _ in range(n)]
            return items
        if major == 5:
            out: dict[Any, Any] = {}
            if n is None:
                while (k := self.item()) is not _BREAK:
                    out[k] = self.item()
            else:
                for _ in range(n):
                    k = self.item()
                    out[k] = self.item()
            return out
        if major == 6:
            inner = self.item()
            if n == 1:
                import datetime

                return datetime.datetime.fromtimestamp(float(inner), tz=datetime.UTC)
            return inner
        raise ValueError("bad CBOR major type")


_BREAK = object()


def _half(data: bytes) -> float:
    return float(struct.unpack(">e", data)[0])


def cbor_decode(data: bytes) -> Any:
    return _Reader(data).item()
