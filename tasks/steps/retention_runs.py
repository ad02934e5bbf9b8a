"""Status-only check: the last retention run of the env (its time, result and what it dropped), in one read.

Every run publishes its figures to CloudWatch (retention/metrics.py: `otlp2pipeline/Retention`, dimension
`Env`), the function's daily run and `doit retention` alike. One GetMetricData over the last LOOKBACK_DAYS
(per minute: RunFailed, DroppedDays, DroppedRows, DroppedBytes) gives the last minute with a run. The
retention alarms (tasks/alarms.py) are what make status unhealthy when runs fail or stop; this shows when
the last one ran and what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tasks.step import Context, Diff, Outcome

NAME = "retention_runs"
LOOKBACK_DAYS = 3
# The query ends two days ahead: no datapoint is ever there on AWS, and a clock ahead of this machine's (the
# local AWS's, moved up to a day and some hours by a test waiting for the schedule) still shows its runs.
LOOKAHEAD = timedelta(days=2)
QUERIES = (("failed", "RunFailed", "Maximum"), ("days", "DroppedDays", "Sum"), ("rows", "DroppedRows", "Sum"),
           ("bytes", "DroppedBytes", "Sum"))  # fmt: skip


@dataclass(frozen=True)
class LastRun:
    at: datetime | None  # None: no run in the last LOOKBACK_DAYS days
    failed: bool = False
    days: int = 0
    rows: int = 0
    bytes: int = 0

    def text(self) -> str:
        if self.at is None:
            return f"no run in the last {LOOKBACK_DAYS} days"
        when = self.at.strftime("%Y-%m-%d %H:%M UTC")
        if self.failed:
            return f"last run {when}: FAILED (its log says why; `doit doctor` names the cause)"
        return f"last run {when}: succeeded, dropped {self.days} day(s), {self.rows} rows, {self.bytes} bytes"


@dataclass(frozen=True)
class Observed:
    enabled: bool
    last: LastRun | None = None


def desired(ctx: Context) -> bool:
    return ctx.config.retention_enabled


def read_last(ctx: Context, now: datetime | None = None) -> LastRun:
    from retention.metrics import ENV_DIMENSION, NAMESPACE

    end = (now or datetime.now(UTC)) + LOOKAHEAD
    dims = [{"Name": ENV_DIMENSION, "Value": ctx.config.env}]
    queries = [
        {
            "Id": key,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                "Period": 60,
                "Stat": stat,
            },
        }
        for key, metric, stat in QUERIES
    ]
    out = ctx.clients.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries,
        StartTime=end - LOOKAHEAD - timedelta(days=LOOKBACK_DAYS),
        EndTime=end,
        ScanBy="TimestampDescending",
    )
    series = {r["Id"]: dict(zip(r.get("Timestamps", []), r.get("Values", []), strict=False))
              for r in out.get("MetricDataResults", [])}  # fmt: skip
    runs = series.get("failed") or {}
    if not runs:
        return LastRun(None)
    at = max(runs)
    return LastRun(
        at.astimezone(UTC),
        runs[at] >= 1,
        int(series.get("days", {}).get(at, 0)),
        int(series.get("rows", {}).get(at, 0)),
        int(series.get("bytes", {}).get(at, 0)),
    )


def observe(ctx: Context) -> Observed:
    if not ctx.config.retention_enabled:
        return Observed(False)
    return Observed(True, read_last(ctx))


def diff(want: bool, have: Observed) -> Diff[bool, Observed]:
    return Diff()  # the retention alarms say when runs fail or stop; this only shows the last one


def apply(ctx: Context, d: Diff[bool, Observed]) -> Outcome:
    return Outcome("unchanged")


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.enabled or have.last is None:
        return [("retention runs", "none: no table has a window")]
    return [("retention runs", have.last.text())]
