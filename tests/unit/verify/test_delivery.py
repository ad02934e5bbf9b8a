"""verify/'s helpers on their own (verify/delivery.py, tasks/polling.py's poll_until): polling on a fake
clock, the metrics window, error objects, and row comparison."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tasks.doctor import ENTRY_FIREHOSE_GRANTS, ENTRY_RECORD_SHAPE
from tasks.records import make_record
from verify import delivery


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_poll_backs_off_until_done():
    clock = FakeClock()
    values = iter(range(100))
    value, done = delivery.poll(lambda: next(values), lambda v: v >= 4, 100.0, clock=clock, sleep=clock.sleep)
    assert (value, done) == (4, True)
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.8]


def test_poll_stops_at_the_deadline_and_reads_once_more():
    clock = FakeClock()
    reads: list[float] = []

    def read() -> int:
        reads.append(clock.now)
        return 0

    _, done = delivery.poll(read, lambda v: v > 0, 10.0, max_delay=2.0, clock=clock, sleep=clock.sleep)
    assert not done
    assert clock.sleeps[:7] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])  # capped
    assert reads[-1] == pytest.approx(10.0)  # the last read is at the deadline, not before
    assert clock.now == pytest.approx(10.0)


def test_poll_reads_at_least_once_after_the_deadline():
    clock = FakeClock()
    clock.now = 10.0
    value, done = delivery.poll(lambda: 7, lambda v: v == 7, 5.0, clock=clock, sleep=clock.sleep)
    assert (value, done) == (7, True)
    assert clock.sleeps == []


def test_metric_window_covers_the_send_and_the_wait_in_whole_periods():
    sent = datetime(2026, 1, 10, 12, 0, 59, 500000, tzinfo=UTC)
    start, end = delivery.metric_window(sent, 120.0)
    assert start == datetime(2026, 1, 10, 11, 59, tzinfo=UTC)
    assert end == datetime(2026, 1, 10, 12, 4, tzinfo=UTC)
    assert start <= sent and end > sent + timedelta(seconds=120)


class FakeCloudWatch:
    def __init__(self, points: dict[str, list[float]]) -> None:
        self.points = points
        self.requests: list[dict] = []

    def get_metric_statistics(self, **kw):
        self.requests.append(kw)
        ts = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
        return {"Datapoints": [{"Timestamp": ts, "Sum": v} for v in self.points.get(kw["MetricName"], [])]}


def test_read_metrics_sums_datapoints_of_both_metrics():
    cw = FakeCloudWatch({delivery.SUCCESS_METRIC: [3, 2], delivery.FAILED_METRIC: [1]})
    m = delivery.read_metrics(cw, "s", delivery.metric_window(datetime.now(UTC), 60))
    assert (m.successful, m.failed) == (5, 1)
    assert (m.minus(delivery.Metrics(2, 1)).successful, m.minus(delivery.Metrics(2, 1)).failed) == (3, 0)
    assert {r["Period"] for r in cw.requests} == {60}
    assert {tuple(r["Statistics"]) for r in cw.requests} == {("Sum",)}
    assert "SuccessfulRowCount=5" in m.describe() and "FailedRowCount=1" in m.describe()


class FakeS3:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket, Key):
        import io

        return {"Body": io.BytesIO(self.objects[Key])}


def _error_line(code: str, raw: bytes) -> str:
    return json.dumps({"errorCode": code, "errorMessage": "x", "rawData": base64.b64encode(raw).decode()})


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_error_objects_are_read_with_their_codes_and_run_records(compress):
    body = "\n".join(
        [
            _error_line("Iceberg.MissingColumnWithinRecord", b'{"service_instance_id":"run-1:0"}'),
            _error_line("Iceberg.MissingColumnWithinRecord", b'{"service_instance_id":"run-2:0"}'),
            _error_line("Iceberg.InsufficientLakeFormationPermissions", b'{"service_instance_id":"run-1:1"}'),
        ]
    ).encode()
    s3 = FakeS3({"k": gzip.compress(body) if compress else body})
    obj = delivery.read_error_object(s3, "b", "k", "run-1")
    assert obj.codes == {
        "Iceberg.MissingColumnWithinRecord": 2,
        "Iceberg.InsufficientLakeFormationPermissions": 1,
    }
    assert obj.run_records == 2
    text = delivery.describe_errors([obj])
    assert "errorCode Iceberg.MissingColumnWithinRecord" in text and ENTRY_RECORD_SHAPE in text
    assert ENTRY_FIREHOSE_GRANTS in text


def test_rows_compare_equal_to_the_record_with_timestamps_parsed():
    record = make_record("logs", "run-x", 3)
    row = dict(record)
    # Iceberg timestamp: naive UTC, microseconds; a run id without a start time starts at LEGACY_START.
    row["timestamp"] = datetime(2026, 1, 10, 12, 0, 0, 3)
    expected = delivery.expected_row(record, {"timestamp"})
    assert delivery.row_differences(expected, delivery.normalise_row(row)) == []
    row["severity_text"] = "WARN"
    del row["body"]
    diffs = delivery.row_differences(expected, row)
    assert diffs == ["body: missing", "severity_text: expected 'INFO', got 'WARN'"]


def test_aware_timestamps_are_normalised_to_naive_utc():
    aware = datetime(2026, 1, 10, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert delivery.normalise_row({"t": aware}) == {"t": datetime(2026, 1, 10, 12, 0)}
    assert delivery.parse_timestamp("2026-01-10T12:00:00.250Z") == datetime(2026, 1, 10, 12, 0, 0, 250000)
