"""Delivery checks: metrics, the error bucket and (on local) the Iceberg rows of one run.

Kept apart from the test modules so tests/unit/verify/test_delivery.py can unit-test the polling and the
failure message.
Polling always backs off toward a deadline (buffering interval + margin); there is no fixed sleep.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from lake import schemas
from tasks.config import Config
from tasks.doctor import describe_codes, logged_errors, troubleshooting_entry
from tasks.polling import backoff, poll_until
from tasks.records import RUN_ID_COLUMN, from_micros

T = TypeVar("T")

NAMESPACE = "AWS/Firehose"
SUCCESS_METRIC = "DeliveryToIceberg.SuccessfulRowCount"
FAILED_METRIC = "DeliveryToIceberg.FailedRowCount"
PERIOD = 60
ERROR_OBJECT_WAIT_S = 30.0


def poll(
    read: Callable[[], T],
    done: Callable[[T], bool],
    deadline: float,
    *,
    first_delay: float = 0.1,
    max_delay: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Read until done() or the deadline (a clock() value); the delay doubles up to max_delay.

    Returns the last value read and whether done() held. Always reads at least once, and once more
    right at the deadline, so a slow first read never hides a value that arrived in time.
    """
    delays = backoff(deadline, first=first_delay, cap=max_delay, clock=clock)
    return poll_until(read, done, delays, sleep=sleep)


def metric_window(sent_at: datetime, wait_s: float) -> tuple[datetime, datetime]:
    """Whole 60 s periods from the minute before the send to well past the delivery deadline.

    The window is fixed once per send, so a baseline read before the send and the reads after it cover
    the same periods and their difference is what this send caused.
    """
    start = sent_at.replace(second=0, microsecond=0) - timedelta(seconds=PERIOD)
    end = (sent_at + timedelta(seconds=wait_s)).replace(second=0, microsecond=0) + timedelta(
        seconds=2 * PERIOD
    )
    return start, end


@dataclass
class Metrics:
    successful: float = 0.0
    failed: float = 0.0
    datapoints: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def minus(self, baseline: Metrics) -> Metrics:
        """What happened since the baseline (same window): earlier deliveries in the same minute drop out."""
        return Metrics(self.successful - baseline.successful, self.failed - baseline.failed, self.datapoints)

    def describe(self) -> str:
        parts = [f"SuccessfulRowCount={self.successful:g}", f"FailedRowCount={self.failed:g} (this send)"]
        for name, points in self.datapoints.items():
            if points:
                parts.append(
                    f"{name.split('.')[-1]} datapoints " + ", ".join(f"{t} {v:g}" for t, v in points)
                )
        return "; ".join(parts)


def read_metrics(cloudwatch: Any, stream: str, window: tuple[datetime, datetime]) -> Metrics:
    """Sum of SuccessfulRowCount and FailedRowCount over the window (Sum, 60 s periods)."""
    start, end = window
    out = Metrics()
    for name in (SUCCESS_METRIC, FAILED_METRIC):
        resp = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=name,
            Dimensions=[{"Name": "DeliveryStreamName", "Value": stream}],
            StartTime=start,
            EndTime=end,
            Period=PERIOD,
            Statistics=["Sum"],
        )
        points = sorted((p["Timestamp"], float(p["Sum"])) for p in resp.get("Datapoints", []))
        out.datapoints[name] = [(t.strftime("%H:%M"), v) for t, v in points]
        total = sum(v for _, v in points)
        if name == SUCCESS_METRIC:
            out.successful = total
        else:
            out.failed = total
    return out


# -- the error bucket -------------------------------------------------------------------------------


def list_error_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(obj["Key"] for obj in page.get("Contents", []))
    return keys


@dataclass
class ErrorObject:
    key: str
    codes: Counter[str]
    run_records: int  # lines whose rawData holds the run id


def _decode_lines(body: bytes) -> list[dict[str, Any]]:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    lines: list[dict[str, Any]] = []
    for raw in body.decode("utf-8", errors="replace").splitlines():
        raw = raw.strip()
        if not raw:
            continue
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict):
            lines.append(doc)
    return lines


def error_records(s3: Any, bucket: str, key: str) -> list[tuple[str, bytes]]:
    """(errorCode, the record's raw bytes) of each line of one error object."""
    out: list[tuple[str, bytes]] = []
    for doc in _decode_lines(s3.get_object(Bucket=bucket, Key=key)["Body"].read()):
        try:
            raw = base64.b64decode(doc.get("rawData") or "", validate=False)
        except (binascii.Error, ValueError):
            raw = b""
        out.append((str(doc.get("errorCode", "?")), raw))
    return out


def read_error_object(s3: Any, bucket: str, key: str, run_id: str) -> ErrorObject:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    codes: Counter[str] = Counter()
    mine = 0
    for doc in _decode_lines(body):
        codes[str(doc.get("errorCode", "?"))] += 1
        try:
            raw = base64.b64decode(doc.get("rawData") or "", validate=False)
        except (binascii.Error, ValueError):
            raw = b""
        if f"{run_id}:".encode() in raw:
            mine += 1
    return ErrorObject(key, codes, mine)


def describe_errors(objects: list[ErrorObject]) -> str:
    """`key: N x CODE -> troubleshooting: ENTRY` per new error object."""
    if not objects:
        return "no new objects in the error bucket"
    parts = []
    for obj in objects:
        codes = ", ".join(
            f"{n} x errorCode {code} -> troubleshooting: {troubleshooting_entry(code)}"
            for code, n in obj.codes.most_common()
        )
        parts.append(f"{obj.key}: {codes or 'no JSON lines'}")
    return f"{len(objects)} new error object(s): " + "; ".join(parts)


def describe_logged(config: Config, signal: str, codes: Counter[str]) -> str:
    if not codes:
        return ""
    where = f"{config.log_group_name}/{config.log_stream_name(signal)}"
    return (
        f"; Firehose logged failed attempts in {where}: {describe_codes(codes)} (it retries for "
        f"{config.firehose.retry_duration_seconds} s before writing the error bucket)"
    )


# -- the rows of one run (local) --------------------------------------------------------------------


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 string (what older clients sent) as Iceberg `timestamp` stores it: naive UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is not None:
            out[key] = value.astimezone(UTC).replace(tzinfo=None)
    return out


def timestamp_as_stored(value: Any) -> Any:
    """A record's timestamp (integer epoch microseconds; ISO-8601 from older clients) as Iceberg reads it
    back: a naive UTC datetime, to the microsecond."""
    if isinstance(value, int) and not isinstance(value, bool):
        return from_micros(value)
    if isinstance(value, str):
        return parse_timestamp(value)
    return value


def expected_row(record: dict[str, Any], timestamp_columns: set[str]) -> dict[str, Any]:
    return {k: timestamp_as_stored(v) if k in timestamp_columns else v for k, v in record.items()}


def row_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    diffs = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            diffs.append(f"{key}: missing")
        elif key not in expected:
            diffs.append(f"{key}: unexpected column (value {actual[key]!r})")
        elif expected[key] != actual[key]:
            diffs.append(f"{key}: expected {expected[key]!r}, got {actual[key]!r}")
    return diffs


def failure_message(
    config: Config,
    signal: str,
    run_id: str,
    sent: int,
    waited: float,
    metrics: Metrics,
    errors: list[ErrorObject],
    problem: str,
    logged: Counter[str] | None = None,
) -> str:
    """What was seen, and where to look next."""
    return (
        f"{signal}: {problem}. Sent {sent} record(s) with run id {run_id} to {config.stream_name(signal)}; "
        f"after {waited:.1f} s: {metrics.describe()}; {describe_errors(errors)}"
        f"{describe_logged(config, signal, logged or Counter())}. "
        f"Diagnose with `doit doctor env={config.env}`."
    )


# -- one signal's delivery, end to end --------------------------------------------------------------

Sender = Callable[[list[dict[str, Any]]], int]  # sends records, returns how many Firehose accepted


@dataclass
class DeliveryResult:
    ok: bool
    message: str
    waited: float
    metrics: Metrics
    errors: list[ErrorObject]


def check_delivery(
    clients: Any,
    config: Config,
    signal: str,
    run_id: str,
    records: list[dict[str, Any]],
    send: Sender,
    error_bucket: str,
    margin: float,
    read_rows: Callable[[], list[dict[str, Any]]] | None = None,
) -> DeliveryResult:
    """Send, then poll metrics (and rows, when read_rows is given) until delivered or the deadline."""
    stream = config.stream_name(signal)
    prefix = config.error_prefix(signal)
    before = list_error_keys(clients.s3, error_bucket, prefix)
    wait_s = config.firehose.buffering_interval_seconds + margin
    sent_at = datetime.now(UTC)
    window = metric_window(sent_at, wait_s)
    baseline = read_metrics(clients.cloudwatch, stream, window)
    started = time.monotonic()
    accepted = send(records)
    sent = len(records)
    deadline = started + wait_s
    metrics = Metrics()

    def new_errors() -> list[ErrorObject]:
        keys = sorted(list_error_keys(clients.s3, error_bucket, prefix) - before)
        return [read_error_object(clients.s3, error_bucket, k, run_id) for k in keys]

    def fail(problem: str, errors: list[ErrorObject] | None = None) -> DeliveryResult:
        errs = new_errors() if errors is None else errors
        logged = logged_errors(clients.logs, config, signal, sent_at - timedelta(seconds=1))
        waited = time.monotonic() - started
        msg = failure_message(config, signal, run_id, sent, waited, metrics, errs, problem, logged)
        return DeliveryResult(False, msg, waited, metrics, errs)

    if accepted != sent:
        return fail(f"Firehose accepted {accepted} of {sent} records")

    metrics, covered = poll(
        lambda: read_metrics(clients.cloudwatch, stream, window).minus(baseline),
        lambda m: m.successful >= sent or m.failed > 0,
        deadline,
    )
    if metrics.failed > 0:
        # Firehose may write the error objects a little after it counts the failure: wait for them too.
        errors, _ = poll(new_errors, bool, min(deadline, time.monotonic() + ERROR_OBJECT_WAIT_S))
        if not errors or any(e.run_records for e in errors):
            return fail(f"{FAILED_METRIC} is {metrics.failed:g}, expected 0", errors)
        # Only another sender's records failed in this window (verify's fact probes send some on
        # purpose): this run's own records are still to be counted.
        metrics, covered = poll(
            lambda: read_metrics(clients.cloudwatch, stream, window).minus(baseline),
            lambda m: m.successful >= sent,
            deadline,
        )
    if not covered:
        return fail(
            f"{SUCCESS_METRIC} reached {metrics.successful:g} of {sent} within the deadline "
            f"(buffering {config.firehose.buffering_interval_seconds} s + margin {margin:g} s)"
        )
    errors = [e for e in new_errors() if e.run_records]
    if errors:
        return fail("records of this run were written to the error bucket", errors)

    if read_rows is not None:
        expected = {r[RUN_ID_COLUMN]: r for r in records}
        rows, found_all = poll(
            read_rows, lambda rs: expected.keys() <= {r.get(RUN_ID_COLUMN) for r in rs}, deadline
        )
        got = {r.get(RUN_ID_COLUMN): normalise_row(r) for r in rows}
        if not found_all:
            lost = sorted(set(expected) - set(got))
            return fail(
                f"{len(lost)} record(s) not in the table: {lost[:5]}{' ...' if len(lost) > 5 else ''}"
            )
        if len(rows) != len(expected):
            return fail(
                f"the table holds {len(rows)} rows of the run, {len(expected)} were sent (duplicates?)"
            )
        ts_cols = {c.name for c in schemas.load(signal).columns if c.type == "timestamp"}
        for key, record in sorted(expected.items()):
            diffs = row_differences(expected_row(record, ts_cols), got[key])
            if diffs:
                return fail(f"row {key} differs from what was sent: " + "; ".join(diffs))
    waited = time.monotonic() - started
    return DeliveryResult(True, f"{signal}: {sent} delivered in {waited:.1f} s", waited, metrics, [])
