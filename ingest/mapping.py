"""OTLP messages into table rows, exactly as otlp-mapping.md says; the columns come from config/schemas/.

Each column has one rule below, at the level where its value is known: the resource and scope (copied
onto every row), the metric, or the item (log record, span, data point). The plan of a signal is its
schema's column list, each column paired with its rule, so a column added to config/schemas/ without a
rule fails at import, and a rule for a column the schema lacks is never used. Null values are left out
of the record (Firehose fills absent optional columns with null).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.values import (
    ENCODERS,
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    Members,
    Refused,
    attributes,
    attributes_json,
    body_value,
    dumps,
    exemplars_json,
    finite,
    int64,
    optional_id,
    optional_id_nonzero,
    required_id,
)
from lake.firehose import MAX_RECORD_BYTES
from lake.schemas import load
from lake.signals import ALL_SIGNALS, METRIC_SIGNALS, signal_of

Rule = Callable[[Any, "Received"], Any]


@dataclass(frozen=True)
class Received:
    """When the receiver got the request (the fallback for a log record without a time), and the JSON of
    the attributes met so far in it, which its rows share (values.attributes_json)."""

    micros: int
    millis: int
    members: Members = field(default_factory=dict, compare=False, repr=False)


def _resource_attr(resource: Any, key: str) -> str | None:
    for kv in resource.attributes:
        if kv.key == key:
            v = kv.value
            kind = v.WhichOneof("value")
            if kind == "string_value":
                return v.string_value or None
            if kind in ("int_value", "bool_value", "double_value"):
                return str(getattr(v, kind))
            return None
    return None


# (resource, scope) -> value
COMMON: dict[str, Callable[[Any, Any], Any]] = {
    "service_name": lambda r, s: _resource_attr(r, "service.name") or "unknown_service",
    "service_namespace": lambda r, s: _resource_attr(r, "service.namespace"),
    "service_instance_id": lambda r, s: _resource_attr(r, "service.instance.id"),
    "resource_attributes": lambda r, s: attributes_json(r.attributes),
    "scope_name": lambda r, s: s.name or None,
    "scope_version": lambda r, s: s.version or None,
    "scope_attributes": lambda r, s: attributes_json(s.attributes),
}

# (metric, its data: Gauge/Sum/Histogram/ExponentialHistogram) -> value
METRIC: dict[str, Callable[[Any, Any], Any]] = {
    "metric_name": lambda m, d: m.name,
    "metric_description": lambda m, d: m.description or None,
    "metric_unit": lambda m, d: m.unit or None,
    "aggregation_temporality": lambda m, d: d.aggregation_temporality,
    "is_monotonic": lambda m, d: d.is_monotonic,
}

# The log data model's short names: 0, then four numbers per name (1-4 TRACE ... 21-24 FATAL).
_NAMES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_SEVERITY = ["UNSPECIFIED", *(n for n in _NAMES for _ in range(4))]


def _severity_text(lr: Any) -> str:
    if lr.severity_text:
        return str(lr.severity_text)
    n = lr.severity_number
    return _SEVERITY[n] if 0 <= n < len(_SEVERITY) else "UNSPECIFIED"


def _point_value(p: Any, rx: Received) -> float:
    kind = p.WhichOneof("value")
    if kind == "as_double":
        return finite(p.as_double, "the point's value")
    if kind == "as_int":
        return float(p.as_int)
    raise Refused("a point has no value")


def _optional_double(name: str) -> Rule:
    def rule(p: Any, rx: Received) -> float | None:
        return finite(getattr(p, name), f"the point's {name}") if p.HasField(name) else None

    return rule


def _side(name: str, part: str) -> Rule:
    def rule(p: Any, rx: Received) -> Any:
        if not p.HasField(name):
            return None
        buckets = getattr(p, name)
        return buckets.offset if part == "offset" else dumps(list(buckets.bucket_counts))

    return rule


def _start_ms(p: Any, rx: Received) -> int | None:
    return p.start_time_unix_nano // 1_000_000 or None


def _events(span: Any) -> str | None:
    if not span.events:
        return None
    return dumps(
        [
            {
                "timestamp": e.time_unix_nano // 1000,
                "name": e.name,
                "attributes": attributes(e.attributes),
                "dropped_attributes_count": e.dropped_attributes_count,
            }
            for e in span.events
        ]
    )


def _links(span: Any) -> str | None:
    if not span.links:
        return None
    return dumps(
        [
            {
                "trace_id": required_id(link.trace_id, TRACE_ID_BYTES, "a link's trace_id"),
                "span_id": required_id(link.span_id, SPAN_ID_BYTES, "a link's span_id"),
                "trace_state": link.trace_state or None,
                "attributes": attributes(link.attributes),
                "dropped_attributes_count": link.dropped_attributes_count,
            }
            for link in span.links
        ]
    )


_POINT_COMMON: dict[str, Rule] = {
    "timestamp": lambda p, rx: p.time_unix_nano // 1000,
    "start_timestamp": _start_ms,
    "metric_attributes": lambda p, rx: attributes_json(p.attributes, rx.members),
    "flags": lambda p, rx: p.flags,
    "exemplars_json": lambda p, rx: exemplars_json(p.exemplars),
}
_HISTOGRAM_COMMON: dict[str, Rule] = {
    **_POINT_COMMON,
    "count": lambda p, rx: int64(p.count, "the point's count"),
    "sum": _optional_double("sum"),
    "min": _optional_double("min"),
    "max": _optional_double("max"),
}

# signal -> column -> (item, Received) -> value
ITEM: dict[str, dict[str, Rule]] = {
    "logs": {
        "timestamp": lambda lr, rx: (
            lr.time_unix_nano // 1000 or lr.observed_time_unix_nano // 1000 or rx.micros
        ),
        "observed_timestamp": lambda lr, rx: lr.observed_time_unix_nano // 1_000_000 or rx.millis,
        "trace_id": lambda lr, rx: optional_id_nonzero(
            lr.trace_id, TRACE_ID_BYTES, "a log record's trace_id"
        ),
        "span_id": lambda lr, rx: optional_id_nonzero(lr.span_id, SPAN_ID_BYTES, "a log record's span_id"),
        "severity_number": lambda lr, rx: lr.severity_number,
        "severity_text": lambda lr, rx: _severity_text(lr),
        "body": lambda lr, rx: body_value(lr.body) if lr.HasField("body") else None,
        "log_attributes": lambda lr, rx: attributes_json(lr.attributes, rx.members),
    },
    "traces": {
        "timestamp": lambda s, rx: s.start_time_unix_nano // 1000,
        "end_timestamp": lambda s, rx: s.end_time_unix_nano // 1_000_000,
        "duration": lambda s, rx: max(0, (s.end_time_unix_nano - s.start_time_unix_nano) // 1_000_000),
        "trace_id": lambda s, rx: required_id(s.trace_id, TRACE_ID_BYTES, "a span's trace_id"),
        "span_id": lambda s, rx: required_id(s.span_id, SPAN_ID_BYTES, "a span's span_id"),
        "parent_span_id": lambda s, rx: optional_id(
            s.parent_span_id, SPAN_ID_BYTES, "a span's parent_span_id"
        ),
        "trace_state": lambda s, rx: s.trace_state or None,
        "span_name": lambda s, rx: s.name,
        "span_kind": lambda s, rx: s.kind,
        "status_code": lambda s, rx: s.status.code,
        "status_message": lambda s, rx: s.status.message or None,
        "span_attributes": lambda s, rx: attributes_json(s.attributes, rx.members),
        "events_json": lambda s, rx: _events(s),
        "links_json": lambda s, rx: _links(s),
        "dropped_attributes_count": lambda s, rx: s.dropped_attributes_count,
        "dropped_events_count": lambda s, rx: s.dropped_events_count,
        "dropped_links_count": lambda s, rx: s.dropped_links_count,
        "flags": lambda s, rx: s.flags,
    },
    "gauge": {**_POINT_COMMON, "value": _point_value},
    "sum": {**_POINT_COMMON, "value": _point_value},
    "histogram": {
        **_HISTOGRAM_COMMON,
        "bucket_counts": lambda p, rx: dumps(list(p.bucket_counts)),
        "explicit_bounds": lambda p, rx: dumps(list(p.explicit_bounds)),
    },
    "exp_histogram": {
        **_HISTOGRAM_COMMON,
        "scale": lambda p, rx: p.scale,
        "zero_count": lambda p, rx: int64(p.zero_count, "the point's zero_count"),
        "zero_threshold": lambda p, rx: finite(p.zero_threshold, "the point's zero_threshold"),
        "positive_offset": _side("positive", "offset"),
        "positive_bucket_counts": _side("positive", "counts"),
        "negative_offset": _side("negative", "offset"),
        "negative_bucket_counts": _side("negative", "counts"),
    },
}


# A column of a plan: its JSON key with the colon ('"name":'), its rule, and the JSON text of its type.
Column = tuple[str, Callable[..., Any], Callable[[Any], str]]


@dataclass(frozen=True)
class Plan:
    """One signal's columns in schema order, split by the level their value is known at."""

    common: tuple[Column, ...]
    metric: tuple[Column, ...]
    item: tuple[Column, ...]


def _plan(signal: str) -> Plan:
    common: list[Column] = []
    metric: list[Column] = []
    item: list[Column] = []
    for col in load(signal).columns:
        key, encode = f'"{col.name}":', ENCODERS[col.type]
        if col.name in ITEM[signal]:
            item.append((key, ITEM[signal][col.name], encode))
        elif col.name in COMMON:
            common.append((key, COMMON[col.name], encode))
        elif col.name in METRIC and signal_of(signal).metric is not None:
            metric.append((key, METRIC[col.name], encode))
        else:
            raise RuntimeError(
                f"config/schemas/{signal}.yaml column {col.name!r} has no rule in ingest/mapping.py"
            )
    return Plan(tuple(common), tuple(metric), tuple(item))


PLANS: dict[str, Plan] = {signal: _plan(signal) for signal in ALL_SIGNALS}


@dataclass
class Rows:
    """A request's rows, encoded as Firehose records, per signal; and what was refused, with why."""

    records: dict[str, list[bytes]] = field(default_factory=dict)
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def refuse(self, reason: str, n: int = 1) -> None:
        if n <= 0:
            return
        self.rejected += n
        self.reasons[reason] += n

    @property
    def error_message(self) -> str:
        return "; ".join(f"{n} refused: {reason}" for reason, n in sorted(self.reasons.items()))

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


def _fragment(columns: tuple[Column, ...], a: Any, b: Any) -> str:
    """The JSON members ('"k":v,...') of the columns known above the item: the resource and scope, or the
    metric. Written once per scope or metric and shared by its rows, not encoded again for each row."""
    parts = []
    for key, rule, encode in columns:
        v = rule(a, b)
        if v is not None:
            parts.append(key + encode(v))
    return ",".join(parts)


def _emit(rows: Rows, signal: str, head: str, plan: Plan, item: Any, rx: Received) -> None:
    """One item's row: `head` (the members shared with its neighbours), then its own columns in schema
    order; null values left out."""
    parts = [head] if head else []
    try:
        for key, rule, encode in plan.item:
            v = rule(item, rx)
            if v is not None:
                parts.append(key + encode(v))
    except Refused as exc:
        rows.refuse(str(exc))
        return
    data = ("{" + ",".join(parts) + "}\n").encode()
    if len(data) > MAX_RECORD_BYTES:
        rows.refuse(f"a row of {len(data)} bytes is over Firehose's 1,000 KiB record limit")
        return
    rows.records.setdefault(signal, []).append(data)


def logs_rows(request: Any, signals: tuple[str, ...], rx: Received) -> Rows:
    rows = Rows()
    plan = PLANS["logs"]
    for rl in request.resource_logs:
        for sl in rl.scope_logs:
            if "logs" not in signals:
                rows.refuse("the env has no logs signal", len(sl.log_records))
                continue
            head = _fragment(plan.common, rl.resource, sl.scope)
            for lr in sl.log_records:
                _emit(rows, "logs", head, plan, lr, rx)
    return rows


def traces_rows(request: Any, signals: tuple[str, ...], rx: Received) -> Rows:
    rows = Rows()
    plan = PLANS["traces"]
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            if "traces" not in signals:
                rows.refuse("the env has no traces signal", len(ss.spans))
                continue
            head = _fragment(plan.common, rs.resource, ss.scope)
            for span in ss.spans:
                _emit(rows, "traces", head, plan, span, rx)
    return rows


def metrics_rows(request: Any, signals: tuple[str, ...], rx: Received) -> Rows:
    rows = Rows()
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            commons: dict[str, str] = {}  # signal -> its resource and scope members
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                data = getattr(metric, kind) if kind else None
                points = data.data_points if data is not None else ()
                signal = METRIC_SIGNALS.get(kind or "")  # otlp-mapping.md: Summary has no table
                if signal is None:
                    rows.refuse(f"metric type {kind or 'without data'} has no table", len(points))
                    continue
                if signal not in signals:
                    rows.refuse(f"the env has no {signal} signal", len(points))
                    continue
                plan = PLANS[signal]
                if signal not in commons:
                    commons[signal] = _fragment(plan.common, rm.resource, sm.scope)
                head = ",".join(f for f in (commons[signal], _fragment(plan.metric, metric, data)) if f)
                for point in points:
                    _emit(rows, signal, head, plan, point, rx)
    return rows


MAPPERS: dict[str, Callable[[Any, tuple[str, ...], Received], Rows]] = {
    "/v1/logs": logs_rows,
    "/v1/traces": traces_rows,
    "/v1/metrics": metrics_rows,
}
