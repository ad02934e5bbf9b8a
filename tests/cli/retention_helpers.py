"""Rows of chosen days, written through the local Firehose, and the table's files and rows read back, for
the retention tests (tests/cli/*/test_retention*.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyiceberg.table import StaticTable

from tasks import records
from tasks.retention import SCHEDULE
from tests.cli.alarm_helpers import next_firing

BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
SIGNAL = "logs"
STREAM = f"otlp2pipeline-local-{SIGNAL}"
RETENTION = {"ingest.enabled": "false", "signals": SIGNAL, "retention_days": "30"}
ARGS = ("env=local", "ingest.enabled=false", f"signals={SIGNAL}", "retention_days=30")
QUIET_S = 15 * 60  # longer than a retention test runs


def next_run(emu: Any, clear: float = QUIET_S) -> datetime:
    """The daily schedule's first run once deploy makes it, `clear` seconds away at least on the local
    AWS's clock (a nearer 00:15 UTC is passed first): no run falls due on its own, mid-test, to drop days
    the test counts. Call it before the deploy."""
    return next_firing(emu, SCHEDULE, clear)


def send_day(emu: Any, day: date, count: int, hour: int = 12) -> str:
    """`count` records stamped on `day` (at `hour` UTC), put through the stream and delivered: one commit."""
    started = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    run_id = records.new_run_id(started)
    batch = [{"Data": records.encode(r)} for r in records.make_records(SIGNAL, run_id, count)]
    out = emu.client("firehose").put_record_batch(DeliveryStreamName=STREAM, Records=batch)
    assert out["FailedPutCount"] == 0, out
    emu.flush()
    return run_id


def write_days(
    emu: Any, days: int, per_day: int = 3, today: date | None = None, empty: Collection[int] = ()
) -> dict[date, int]:
    """Rows on each of the last `days` UTC days (today included), one Firehose commit a day, oldest first;
    none on the days `empty` names (as days back from today)."""
    first = today or datetime.now(UTC).date()
    out = {}
    for back in range(days - 1, -1, -1):
        if back in empty:
            continue
        day = first - timedelta(days=back)
        send_day(emu, day, per_day)
        out[day] = per_day
    return out


def table(emu: Any, name: str = SIGNAL) -> StaticTable:
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=BUCKET, namespace="default", name=name
    )
    return StaticTable.from_metadata(loc["metadataLocation"])


def files_by_day(tbl: StaticTable) -> dict[str, date]:
    """Every live data file of the table -> the day of its day(timestamp) partition."""
    epoch = date(1970, 1, 1)
    return {
        t.file.file_path: epoch + timedelta(days=int(t.file.partition[0])) for t in tbl.scan().plan_files()
    }


def rows_by_day(tbl: StaticTable) -> dict[date, int]:
    stamps = tbl.scan(selected_fields=("timestamp",)).to_arrow().column("timestamp").to_pylist()
    return dict(Counter(t.date() for t in stamps))


def run_ids(tbl: StaticTable) -> Counter[str]:
    column = tbl.scan(selected_fields=(records.RUN_ID_COLUMN,)).to_arrow().column(records.RUN_ID_COLUMN)
    return Counter(records.parse_key(v)[0] for v in column.to_pylist())
