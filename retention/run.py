"""One retention run over an env's tables: plan, commit (again on a concurrent commit), report, publish.

Per table: LoadTable through the S3 Tables Iceberg REST endpoint, the files the cutoff drops (drop.py),
the delete commit; a commit refused because `main` moved (409: Firehose committed meanwhile) is planned
again on the new head, up to COMMIT_ATTEMPTS times, so rows that landed in between are never dropped
(they are in today's partition, inside any window) and never lost (the new snapshot carries their
manifests). A table that does not exist yet is skipped. A table that fails does not stop the others; the
run then fails (the function raises, so Lambda counts an error too).

Every run but a dry one publishes its figures (metrics.py) and writes one line per table and a total, to
the caller's `say` (doit's output, or the function's log).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lake.iceberg_rest import CONFLICT, IcebergRest, error_code
from retention import metrics
from retention.drop import (
    CUTOFF_PROPERTY,
    WINDOW_PROPERTY,
    Dropped,
    NotDayPartitioned,
    Planner,
    delete_commit,
    parse,
)
from retention.fileio import TableFiles
from retention.windows import cutoff_day, day_text, days_text

COMMIT_ATTEMPTS = 8
BACKOFF_BASE_S = 0.2
BACKOFF_MAX_S = 5.0


@dataclass(frozen=True)
class Target:
    """Where a run acts: the env's table bucket and namespace, through one boto3 session."""

    env: str
    bucket_arn: str
    namespace: str
    session: Any  # boto3 session: signs the REST calls, makes the S3 and CloudWatch clients
    region: str
    s3tables_endpoint: str  # the S3 Tables endpoint the REST endpoint sits beside
    s3: Any = None
    cloudwatch: Any = None


@dataclass(frozen=True)
class TableRun:
    table: str
    window: int
    cutoff: int
    state: str  # dropped | would drop | nothing | missing | failed
    dropped: Dropped = field(default_factory=Dropped)
    attempts: int = 0
    error: str = ""

    def line(self) -> str:
        head = f"{self.table} (window {self.window} days, keeps {day_text(self.cutoff)} on)"
        d = self.dropped
        figures = f"{days_text(d.days)}: {d.rows} rows, {d.files} data files, {d.bytes} bytes"
        if self.state == "dropped":
            retried = f" (committed on attempt {self.attempts})" if self.attempts > 1 else ""
            return f"{head}: dropped {figures}{retried}"
        if self.state == "would drop":
            return f"{head}: would drop {figures}"
        if self.state == "missing":
            return f"{head}: no such table yet"
        if self.state == "failed":
            return f"{head}: FAILED: {self.error}"
        return f"{head}: nothing to drop"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "window_days": self.window,
            "cutoff": day_text(self.cutoff),
            "state": self.state,
            "days": [day_text(d) for d in self.dropped.days],
            "rows": self.dropped.rows,
            "files": self.dropped.files,
            "bytes": self.dropped.bytes,
            "attempts": self.attempts,
            "error": self.error or None,
        }


@dataclass(frozen=True)
class Report:
    env: str
    at: datetime
    dry_run: bool
    tables: tuple[TableRun, ...] = field(default_factory=tuple)
    publish_error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.publish_error) or any(t.state == "failed" for t in self.tables)

    @property
    def days(self) -> int:
        return sum(len(t.dropped.days) for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.dropped.rows for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.dropped.bytes for t in self.tables)

    def summary(self) -> str:
        verb = "would drop" if self.dry_run else "dropped"
        state = "FAILED" if self.failed else "dry run" if self.dry_run else "succeeded"
        text = (
            f"retention env={self.env} at {self.at.strftime('%Y-%m-%d %H:%M:%S')} UTC: {state}: {verb} "
            f"{self.days} day(s), {self.rows} rows, {self.bytes} bytes from {len(self.tables)} table(s)"
        )
        return text + (f"; metrics not published: {self.publish_error}" if self.publish_error else "")

    def lines(self) -> list[str]:
        return [f"retention env={self.env}: {t.line()}" for t in self.tables] + [self.summary()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "failed": self.failed,
            "days": self.days,
            "rows": self.rows,
            "bytes": self.bytes,
            "tables": [t.to_dict() for t in self.tables],
            "publish_error": self.publish_error or None,
        }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def drop_table(
    target: Target, rest: IcebergRest, table: str, window: int, now: datetime, dry_run: bool
) -> TableRun:
    """One table's drop: plan on the current head, commit, and plan again while a concurrent commit wins."""
    cutoff = cutoff_day(now, window)
    files = TableFiles(target.s3)
    planner = Planner(files)
    properties = {CUTOFF_PROPERTY: day_text(cutoff), WINDOW_PROPERTY: str(window)}
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        loaded = rest.load_table(target.namespace, table)
        if loaded is None:
            return TableRun(table, window, cutoff, "missing", attempts=attempt)
        plan = planner.plan(parse(loaded), cutoff)
        if not plan.deleted:
            return TableRun(table, window, cutoff, "nothing", attempts=attempt)
        if dry_run:
            return TableRun(table, window, cutoff, "would drop", plan.dropped, attempt)
        requirements, updates = delete_commit(plan, files, properties)
        try:
            rest.commit(target.namespace, table, requirements, updates)
        except ClientError as exc:
            if error_code(exc) != CONFLICT or attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)))
            continue
        return TableRun(table, window, cutoff, "dropped", plan.dropped, attempt)
    raise AssertionError("unreachable")


def run(
    target: Target,
    windows: dict[str, int],
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> Report:
    """Drop what lies outside each table's window; never raises for a table's failure (the report says)."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    rest = IcebergRest(target.session, target.region, target.s3tables_endpoint, target.bucket_arn)
    results = []
    for table, window in windows.items():
        try:
            result = drop_table(target, rest, table, window, when, dry_run)
        except (ClientError, BotoCoreError, NotDayPartitioned, OSError, ValueError) as exc:
            result = TableRun(table, window, cutoff_day(when, window), "failed", error=_describe(exc))
        say(f"retention env={target.env}: {result.line()}")
        results.append(result)
    report = Report(target.env, when, dry_run, tuple(results))
    if not dry_run and target.cloudwatch is not None:
        try:
            metrics.publish(target.cloudwatch, report)
        except (ClientError, BotoCoreError) as exc:
            report = Report(target.env, when, dry_run, tuple(results), _describe(exc))
    say(report.summary())
    return report
