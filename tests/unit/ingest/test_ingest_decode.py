"""ingest/decode.py on its own: gzip members, OTLP/JSON's duplicate keys and nesting, and the item count
behind `ingest.max_rows` (through the receiver, both paths: tests/cli/ingest/test_ingest_edges.py)."""

from __future__ import annotations

import functools
import gzip
import json

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from ingest import decode

gzip_compress = functools.partial(gzip.compress, mtime=0)  # the same bytes every run (xdist compares ids)
JSON = decode.MediaType(decode.JSON)
PROTOBUF = decode.MediaType(decode.PROTOBUF)


def test_every_gzip_member_is_the_body() -> None:
    body = gzip_compress(b"one ") + gzip_compress(b"") + gzip_compress(b"two")
    assert decode.decompress(body, "gzip", 100) == b"one two"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (gzip_compress(b"x") + b"\0\0\0\0", "4 bytes after gzip member 1 are not another gzip member"),
        (gzip_compress(b"x") + gzip_compress(b"y") + b"junk", "after gzip member 2"),
        (gzip_compress(b"x") + b"\x1f\x8b", "truncated (in member 2)"),
        (gzip_compress(b"x") + gzip_compress(b"y")[:-4], "truncated (in member 2)"),
        (gzip_compress(b"x") + b"\x1f\x8b\x09\x00garbage!", "cannot be decompressed"),  # method 9
    ],
)
def test_bytes_after_the_last_member_are_refused(body: bytes, says: str) -> None:
    with pytest.raises(decode.BadRequest) as err:
        decode.decompress(body, "gzip", 100)
    assert says in str(err.value)


def test_the_limit_counts_every_member() -> None:
    body = gzip_compress(b"a" * 60) + gzip_compress(b"b" * 60)
    assert decode.decompress(body, "gzip", 120) == b"a" * 60 + b"b" * 60
    with pytest.raises(decode.TooLarge):
        decode.decompress(body, "gzip", 119)


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        (b'{"resourceLogs": [], "resourceLogs": []}', "'resourceLogs' twice"),
        (b'{"resourceLogs": [], "resource_logs": []}', "both 'resourceLogs' and 'resource_logs'"),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": '
            b'[{"timeUnixNano": "1", "time_unix_nano": "2"}]}]}]}',
            "both 'timeUnixNano' and 'time_unix_nano'",
        ),
        (b'{"resourceLogs": [{"resource": {"attributes": [{"key": "a", "key": "b"}]}}]}', "'key' twice"),
    ],
)
def test_a_json_key_given_twice_is_refused(doc: bytes, says: str) -> None:
    with pytest.raises(decode.BadRequest) as err:
        decode.parse("/v1/logs", JSON, doc)
    assert says in str(err.value)


def _nested(levels: int) -> bytes:
    """An OTLP/JSON logs request whose nesting (objects and arrays) is `levels` deep."""
    head = b'{"resourceLogs":'  # level 1
    return head + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def test_json_nesting_is_limited_without_a_recursion_error() -> None:
    with pytest.raises(decode.BadRequest, match="nested deeper than 200 levels"):
        decode.parse("/v1/logs", JSON, _nested(1000))  # 2 KB: json.loads itself used to raise RecursionError
    with pytest.raises(decode.BadRequest, match="nested deeper than 200 levels"):
        decode.parse("/v1/logs", JSON, _nested(201))
    with pytest.raises(decode.BadRequest, match="nested deeper than 200 levels"):
        decode.parse("/v1/logs", JSON, b'{"resourceLogs":' + b"[" * 100_000)  # not even complete JSON


def test_json_within_the_nesting_limit_is_read() -> None:
    """An AnyValue nested as deep as protobuf's parser allows is read from JSON too."""
    value: dict[str, object] = {"stringValue": "leaf"}
    for _ in range(30):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": value}]}]}]}
    request = decode.parse("/v1/logs", JSON, json.dumps(doc).encode())
    assert decode.count_items("/v1/logs", request) == 1


def _metrics(points_per_kind: int) -> ExportMetricsServiceRequest:
    req = ExportMetricsServiceRequest()
    sm = req.resource_metrics.add().scope_metrics.add()
    for kind in decode.METRIC_DATA:
        data = getattr(sm.metrics.add(name=kind), kind)
        for _ in range(points_per_kind):
            data.data_points.add()
    sm.metrics.add(name="no data")
    return req


def test_items_are_counted_in_protobuf_and_in_json_alike() -> None:
    from google.protobuf import json_format

    metrics = _metrics(3)
    logs = ExportLogsServiceRequest()
    for _ in range(2):
        for _ in range(2):
            sl = logs.resource_logs.add().scope_logs.add()
            for _ in range(3):
                sl.log_records.add()
    for path, message, n in (("/v1/metrics", metrics, 15), ("/v1/logs", logs, 12)):
        body = message.SerializeToString()
        as_json = json_format.MessageToJson(message).encode()
        snake = json_format.MessageToJson(message, preserving_proto_field_name=True).encode()
        for media, raw in ((PROTOBUF, body), (JSON, as_json), (JSON, snake)):
            assert decode.count_items(path, decode.parse(path, media, raw, max_rows=n)) == n
            with pytest.raises(decode.TooLarge, match=f"holds {n} items"):
                decode.parse(path, media, raw, max_rows=n - 1)


def test_a_body_parsed_in_slices_stops_at_max_rows() -> None:
    """A protobuf body over one slice is parsed a slice at a time; the count is checked as it goes."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from ingest import slices
    from ingest.mapping import Received

    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(6000):
        ss.spans.add(name=f"span-{i}", trace_id=b"\1" * 16, span_id=b"\2" * 8)
    body = req.SerializeToString()
    assert len(body) > 2 * slices.SLICE_BYTES
    rx = Received(0, 0)
    rows = slices.convert("/v1/traces", PROTOBUF, body, ("traces",), rx, max_rows=6000)
    assert rows.count == 6000
    with pytest.raises(decode.TooLarge, match="more than the limit of 5999 per request"):
        slices.convert("/v1/traces", PROTOBUF, body, ("traces",), rx, max_rows=5999)


def test_a_body_that_inflates_far_past_its_size_comes_out_whole() -> None:
    """Inflating a chunk at a time: a few KiB of gzip that inflate to MiBs (output still pending inside
    zlib once all input is in) come out exactly, and one byte over the limit is refused."""

    raw = b"\0" * (5 * 1024 * 1024 + 17)
    body = gzip.compress(raw)
    assert len(body) < 10_000
    assert bytes(decode.decompress(body, "gzip", len(raw))) == raw
    assert bytes(decode.decompress(body + gzip.compress(b"tail"), "gzip", len(raw) + 4)) == raw + b"tail"
    with pytest.raises(decode.TooLarge):
        decode.decompress(body, "gzip", len(raw) - 1)
    with pytest.raises(decode.BadRequest):
        decode.decompress(body[:-12], "gzip", len(raw))
