"""A protobuf request converted slice by slice (ingest/slices.py) gives exactly the rows, refusals and
errors that converting the whole request at once gives; each slice holds a bounded share of the items."""

from __future__ import annotations

import math
import time

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest import decode, slices
from ingest.mapping import MAPPERS, Received, Rows

RX = Received(micros=1_767_225_600_000_000, millis=1_767_225_600_000)
PROTOBUF = decode.MediaType(decode.PROTOBUF)
ALL = ("logs", "traces", "gauge", "sum")
NOW_NS = time.time_ns()


def _logs() -> bytes:
    req = ExportLogsServiceRequest()
    for r in range(3):
        rl = req.resource_logs.add(schema_url=f"https://schema/{r}")
        rl.resource.attributes.add(key="service.name").value.string_value = f"svc-{r}"
        for s in range(2):
            sl = rl.scope_logs.add()
            sl.scope.name, sl.scope.version = f"scope-{r}-{s}", "1.0"
            for i in range(40):
                lr = sl.log_records.add(time_unix_nano=NOW_NS + i, severity_number=9)
                lr.body.string_value = f"{r}/{s}/{i} " + "x" * (i * 37 % 300)
                lr.attributes.add(key="i").value.int_value = i
        rl.scope_logs.add().scope.name = "an empty scope group"
    req.resource_logs.add()  # an empty resource group
    return req.SerializeToString()


def _spans() -> bytes:
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(100):
        span = ss.spans.add(name=f"span-{i}", start_time_unix_nano=NOW_NS, end_time_unix_nano=NOW_NS + i)
        span.trace_id, span.span_id = bytes(range(16)), (i + 1).to_bytes(8, "big")
        span.attributes.add(key="pad").value.string_value = "y" * 200
    return req.SerializeToString()


def _metrics() -> bytes:
    req = ExportMetricsServiceRequest()
    sm = req.resource_metrics.add().scope_metrics.add()
    for i in range(30):
        gauge = sm.metrics.add(name=f"g{i}").gauge
        for j in range(20):
            gauge.data_points.add(time_unix_nano=NOW_NS, as_double=i * j)
        gauge.data_points.add(time_unix_nano=NOW_NS, as_double=math.nan)  # refused, counted
        sm.metrics.add(name=f"s{i}").summary.data_points.add(count=1)  # no table: refused
    return req.SerializeToString()


def _same(a: Rows, b: Rows) -> None:
    assert a.records == b.records
    assert (a.rejected, dict(a.reasons)) == (b.rejected, dict(b.reasons))


@pytest.mark.parametrize(
    ("path", "body"), [("/v1/logs", _logs()), ("/v1/traces", _spans()), ("/v1/metrics", _metrics())]
)
@pytest.mark.parametrize("limit", [1, 1000, 4096])
def test_slices_give_the_rows_of_the_whole(path: str, body: bytes, limit: int) -> None:
    whole = MAPPERS[path](decode.parse(path, PROTOBUF, body), ALL, RX)
    assert whole.count > 50
    sliced = slices.convert(path, PROTOBUF, body, ALL, RX, slice_bytes=limit)
    _same(sliced, whole)
    pieces = list(slices.split(body, limit))
    assert len(pieces) > 1
    request_type = decode.SIGNAL_PATHS[path][0]
    for piece in pieces:
        request_type.FromString(piece)  # each one a valid request of the same kind


def test_each_slice_holds_at_most_its_share_of_items_or_one_item() -> None:
    body = _logs()
    for piece in slices.split(body, 4096):
        req = ExportLogsServiceRequest.FromString(piece)
        items = [lr.ByteSize() for rl in req.resource_logs for sl in rl.scope_logs for lr in sl.log_records]
        assert len(items) == 1 or sum(items) + 3 * len(items) <= 4096


def test_a_broken_item_in_a_late_slice_is_a_bad_request_as_for_the_whole() -> None:
    req = ExportLogsServiceRequest.FromString(_logs())
    whole_body = req.SerializeToString()
    # The last record's bytes: replace its body by a string field whose length runs past the record.
    last = req.resource_logs[2].scope_logs[1].log_records[-1].SerializeToString()
    broken = whole_body.replace(last, b"\x2a\x7f" + last[2:], 1)  # field 5 (body): declared longer
    assert broken != whole_body
    with pytest.raises(decode.BadRequest):
        decode.parse("/v1/logs", PROTOBUF, broken)
    with pytest.raises(decode.BadRequest):
        slices.convert("/v1/logs", PROTOBUF, broken, ALL, RX, slice_bytes=1000)


@pytest.mark.parametrize(
    "body",
    [
        b"\x0a\xff\xff\xff\xff\x0f",  # a resource group longer than the body
        b"\x0b\x0c",  # a group wire type
        b"\x08\x01" + _logs(),  # field 1 with a varint where a message is expected, then a request
        _logs() + b"\x12\x03abc",  # an unknown top-level field after the resource groups
    ],
)
def test_bodies_that_are_not_otlp_shaped_get_what_the_whole_parse_gives(body: bytes) -> None:
    try:
        whole: Rows | str = MAPPERS["/v1/logs"](decode.parse("/v1/logs", PROTOBUF, body), ALL, RX)
    except decode.BadRequest:
        whole = "400"
    try:
        sliced: Rows | str = slices.convert("/v1/logs", PROTOBUF, body, ALL, RX, slice_bytes=1)
    except decode.BadRequest:
        sliced = "400"
    if isinstance(whole, Rows) and isinstance(sliced, Rows):
        _same(sliced, whole)
    else:
        assert sliced == whole


class _Calls:
    """A delivery that notes each call's records per signal, and how many slices had been mapped by then."""

    def __init__(self, mapped: list[int]) -> None:
        self.mapped = mapped
        self.calls: list[tuple[dict[str, int], int]] = []

    def __call__(self, records: dict[str, list[bytes]], deadline: object) -> object:
        from collections import Counter

        from ingest.deliver import Delivery

        self.calls.append(({s: len(r) for s, r in records.items()}, self.mapped[0]))
        return Delivery(sent=Counter({s: len(r) for s, r in records.items()}))


def _many_logs(n: int) -> bytes:
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for i in range(n):
        sl.log_records.add(time_unix_nano=NOW_NS + i).body.string_value = f"record {i} " + "z" * 100
    return req.SerializeToString()


def test_rows_are_handed_on_a_whole_batch_at_a_time_while_later_slices_are_still_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request is never held as all its rows: each PutRecordBatch-sized batch (500 records) goes as soon
    as it is full, before the slices after it are mapped, cut where lake/firehose.batches would cut."""
    from ingest.app import Receiver, Settings
    from lake.firehose import batches

    mapped = [0]
    real = MAPPERS["/v1/logs"]

    def counting(request: object, signals: tuple[str, ...], rx: Received) -> Rows:
        mapped[0] += 1
        return real(request, signals, rx)

    monkeypatch.setitem(MAPPERS, "/v1/logs", counting)
    calls = _Calls(mapped)
    receiver = Receiver(Settings(signals=("logs",), max_body_bytes=1 << 24), calls)  # type: ignore[arg-type]
    body = _many_logs(1234)
    slice_count = sum(1 for _ in slices.split(body))
    assert slice_count > 2
    response = receiver.handle("POST", "/v1/logs", {"content-type": decode.PROTOBUF}, body)
    assert response.status == 200 and response.rows == {"logs": 1234}
    assert [c for c, _ in calls.calls] == [{"logs": 500}, {"logs": 500}, {"logs": 234}]
    assert [len(b) for b in batches([b"x"] * 1234)] == [500, 500, 234]
    assert calls.calls[0][1] < slice_count  # the first batch went before the last slice was mapped


def test_a_broken_late_slice_hands_nothing_on() -> None:
    """Every slice is parsed before the first batch goes, so a 400 has had nothing handed on."""
    from ingest.app import Receiver, Settings

    calls = _Calls([0])
    receiver = Receiver(Settings(signals=("logs",), max_body_bytes=1 << 24), calls)  # type: ignore[arg-type]
    body = _many_logs(1234)
    last = ExportLogsServiceRequest.FromString(body).resource_logs[0].scope_logs[0].log_records[-1]
    record = last.SerializeToString()
    broken = body.replace(record, b"\x2a\x7f" + record[2:], 1)
    response = receiver.handle("POST", "/v1/logs", {"content-type": decode.PROTOBUF}, broken)
    assert response.status == 400
    assert calls.calls == []
