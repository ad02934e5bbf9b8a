"""Every row the receiver hands on is one the local AWS lands: each numeric field of every signal's items,
at each extreme its OTLP type allows, mapped by ingest/mapping.py and then checked by the local AWS's own
record conversion (emulator/firehose/records.py) under the table's Iceberg schema. Both read the one schema
source, config/schemas/ (lake/schemas.py).

The fields are found from the protobuf descriptors, not listed by hand, so a field the proto gains is
covered too. An extreme that has no place in its column must be refused in partial_success, naming why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from emulator.firehose.data import Pending
from emulator.firehose.records import RecordConverter
from emulator.iceberg.schema import build_schema
from ingest.mapping import MAPPERS, Received, Rows
from lake.schemas import load
from lake.signals import ALL_SIGNALS

NOW_NS = 1_767_225_600_000_000_000
F = FieldDescriptor
_I32, _I64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)
EXTREMES: dict[int, tuple[Any, ...]] = {
    F.TYPE_INT32: (*_I32, 0),
    F.TYPE_SINT32: (*_I32, 0),
    F.TYPE_SFIXED32: (*_I32, 0),
    F.TYPE_ENUM: (*_I32, 0),
    F.TYPE_UINT32: (0, 2**31, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**31, 2**32 - 1),
    F.TYPE_INT64: (*_I64, 0),
    F.TYPE_SINT64: (*_I64, 0),
    F.TYPE_SFIXED64: (*_I64, 0),
    F.TYPE_UINT64: (0, 2**63 - 1, 2**63, 2**64 - 1),
    F.TYPE_FIXED64: (0, 1, 2**63 - 1, 2**63, 2**64 - 1),
    F.TYPE_DOUBLE: (0.0, -0.0, 5e-324, -1.7976931348623157e308, 1.7976931348623157e308, math.nan, math.inf),
    F.TYPE_FLOAT: (0.0, 3.4e38, -3.4e38, math.nan),
    F.TYPE_BOOL: (False, True),
}
SKIPPED = {"attributes", "filtered_attributes", "body", "resource", "scope"}  # AnyValues: tests/cli/ingest


def _numeric_paths(desc: Descriptor, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(field path from the item, its FieldDescriptor) for every numeric field, nested messages included."""
    for fd in desc.fields:
        if fd.name in SKIPPED:
            continue
        if fd.type == F.TYPE_MESSAGE:
            yield from _numeric_paths(fd.message_type, (*prefix, fd.name))
        elif fd.type in EXTREMES:
            yield (*prefix, fd.name), fd


def _set(item: Any, path: tuple[str, ...], fd: Any, value: Any) -> None:
    """Set the field at `path` (in the first element of a repeated message on the way; a repeated number
    gets `value` as an element)."""
    target = item
    for name in path[:-1]:
        child = getattr(target, name)
        is_list = hasattr(child, "add")
        target = (child[0] if len(child) else child.add()) if is_list else child
    if fd.is_repeated:
        getattr(target, path[-1]).append(value)
    else:
        setattr(target, path[-1], value)


def _span_request() -> tuple[ExportTraceServiceRequest, Any]:
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add(name="s")
    span.trace_id, span.span_id = b"\1" * 16, b"\2" * 8
    span.start_time_unix_nano, span.end_time_unix_nano = NOW_NS, NOW_NS + 1
    span.events.add(name="e", time_unix_nano=NOW_NS)
    span.links.add(trace_id=b"\3" * 16, span_id=b"\4" * 8)
    return req, span


def _log_request() -> tuple[ExportLogsServiceRequest, Any]:
    req = ExportLogsServiceRequest()
    record = req.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=NOW_NS)
    return req, record


def _metric_request(kind: str) -> Callable[[], tuple[ExportMetricsServiceRequest, Any]]:
    def make() -> tuple[ExportMetricsServiceRequest, Any]:
        req = ExportMetricsServiceRequest()
        metric = req.resource_metrics.add().scope_metrics.add().metrics.add(name="m")
        point = getattr(metric, kind).data_points.add(time_unix_nano=NOW_NS)
        if kind in ("gauge", "sum"):
            point.as_double = 1.0
        point.exemplars.add(time_unix_nano=NOW_NS, as_double=1.0)
        return req, point

    return make


# signal -> (OTLP path, a request with one valid item and that item)
ITEMS: dict[str, tuple[str, Callable[[], tuple[Any, Any]]]] = {
    "logs": ("/v1/logs", _log_request),
    "traces": ("/v1/traces", _span_request),
    "gauge": ("/v1/metrics", _metric_request("gauge")),
    "sum": ("/v1/metrics", _metric_request("sum")),
    "histogram": ("/v1/metrics", _metric_request("histogram")),
    "exp_histogram": ("/v1/metrics", _metric_request("exponential_histogram")),
}


@cache
def _converter(signal: str) -> RecordConverter:
    schema = build_schema(
        [{"Name": c.name, "Type": c.iceberg_type, "Required": c.required} for c in load(signal).columns]
    )
    return RecordConverter(schema)


def _lands(signal: str, rows: Rows) -> None:
    """The local AWS takes every row: no per-record failure, and Arrow builds the table."""
    items = [Pending(0, data) for data in rows.records.get(signal, [])]
    good, bad = _converter(signal).convert(items)
    assert not bad, [(f.code, f.message) for f in bad]
    _converter(signal).to_arrow(good)


def _cases() -> Iterator[tuple[str, tuple[str, ...], Any]]:
    for signal, (_, make) in ITEMS.items():
        _, item = make()
        for path, fd in _numeric_paths(item.DESCRIPTOR):
            for value in EXTREMES[fd.type]:
                yield signal, path, value


CASES = list(_cases())


def test_the_cases_cover_every_signal_and_the_unsigned_64_bit_counts() -> None:
    assert {signal for signal, _, _ in CASES} == set(ALL_SIGNALS)
    paths = {(signal, ".".join(path)) for signal, path, _ in CASES}
    for wanted in (
        ("traces", "flags"),
        ("traces", "dropped_links_count"),
        ("traces", "links.flags"),
        ("traces", "status.code"),
        ("histogram", "count"),
        ("histogram", "bucket_counts"),
        ("exp_histogram", "zero_count"),
        ("exp_histogram", "positive.offset"),
        ("gauge", "exemplars.as_int"),
        ("logs", "severity_number"),
    ):
        assert wanted in paths


@pytest.mark.parametrize(("signal", "path", "value"), CASES, ids=lambda v: str(v))
def test_each_extreme_value_lands_or_is_refused_by_name(
    signal: str, path: tuple[str, ...], value: Any
) -> None:
    otlp_path, make = ITEMS[signal]
    req, item = make()
    fd = next(fd for p, fd in _numeric_paths(item.DESCRIPTOR) if p == path)
    _set(item, path, fd, value)
    rows = MAPPERS[otlp_path](req, ALL_SIGNALS, Received(NOW_NS // 1000, NOW_NS // 1_000_000))
    assert rows.count + rows.rejected == 1
    _lands(signal, rows)
    if rows.rejected:
        assert rows.error_message, (path, value)
        if path in (("count",), ("zero_count",)):
            assert value > 2**63 - 1
            assert f"the point's {path[0]} {value} does not fit its int64 column" in rows.error_message
        else:
            # The only other refusal: a double JSON cannot carry.
            assert isinstance(value, float) and not math.isfinite(value), (path, value, rows.error_message)
            assert "NaN or infinite" in rows.error_message
    elif path in (("count",), ("zero_count",)):
        assert value <= 2**63 - 1


def test_every_numeric_field_at_its_largest_at_once_lands() -> None:
    """All fields of an item at their largest value that fits the contract: one row, which lands."""
    for signal, (otlp_path, make) in ITEMS.items():
        req, item = make()
        for path, fd in _numeric_paths(item.DESCRIPTOR):
            finite = [v for v in EXTREMES[fd.type] if not isinstance(v, float) or math.isfinite(v)]
            largest = max(finite) if fd.type != F.TYPE_BOOL else True
            if path in (("count",), ("zero_count",)):
                largest = 2**63 - 1
            if path[-1] in ("as_int", "as_double") and path[0] != "exemplars":
                continue  # a point's value is a oneof: set below
            _set(item, path, fd, largest)
        rows = MAPPERS[otlp_path](req, ALL_SIGNALS, Received(NOW_NS // 1000, NOW_NS // 1_000_000))
        assert (rows.count, rows.rejected) == (1, 0), (signal, rows.error_message)
        _lands(signal, rows)
