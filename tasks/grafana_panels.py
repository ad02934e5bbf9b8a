"""The panels `doit connect grafana` writes, each a SQL query for Grafana's Athena data source.

Grafana stores the SQL with its macros; the Athena data source expands them before Athena sees the query
(grafana/athena-datasource pkg/athena/macros.go): `$__timeFilter("timestamp")` becomes
`"timestamp" BETWEEN TIMESTAMP '...' AND TIMESTAMP '...'` and `$__timeGroup("timestamp", '1m')` becomes
`FROM_UNIXTIME(FLOOR(TO_UNIXTIME("timestamp")/60)*60)`; Grafana itself first puts the panel's interval in
place of `$__interval` (`1m`) and `$__interval_ms` (`60000`). What is left is in the subset DuckDB and Athena
read alike (tasks/engines/sql.py; `to_unixtime`, `from_unixtime` and `approx_percentile` are DuckDB macros
of Trino's: lake/duckdb_trino.py), and tests/cli/commands/test_grafana.py runs every panel through
`doit query engine=athena` on the local AWS.

Rates are per second over the panel's interval; a division that means a fraction casts to double first.
"Requests" are the spans a service serves: kind SERVER (2) or CONSUMER (5); an error is status code 2
(ERROR); an error log has severity_number 17 or more (ERROR, FATAL).
"""

from __future__ import annotations

from dataclasses import dataclass

TIME_SERIES = 0  # the Athena data source's query formats (src/types/query.types.ts: FormatOptions)
TABLE = 1

BUCKET = '$__timeGroup("timestamp", \'$__interval\') AS "time"'
IN_RANGE = '$__timeFilter("timestamp")'
PER_SECOND = "CAST(count(*) AS double) * 1000 / $__interval_ms"


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    sql: str
    kind: str = "timeseries"  # Grafana's panel plugin: timeseries or table
    unit: str = "short"
    width: int = 12

    @property
    def format(self) -> int:
        return TABLE if self.kind == "table" else TIME_SERIES


@dataclass(frozen=True)
class Dashboard:
    key: str  # the file's and the uid's suffix
    title: str
    tables: tuple[str, ...]  # the env's tables its panels read (a dashboard needs one of them)
    panels: tuple[Panel, ...]


def _series(select: str, table: str, where: str = "", group: str = "1, 2") -> str:
    condition = f"{IN_RANGE} AND {where}" if where else IN_RANGE
    return f"SELECT {BUCKET}, {select}\nFROM {table}\nWHERE {condition}\nGROUP BY {group}\nORDER BY {group}"


SERVED = "span_kind IN (2, 5)"
RED = Dashboard(
    "traces",
    "services (RED, from traces)",
    ("traces",),
    (
        Panel(
            "Requests per second by service",
            "Server and consumer spans per second (rate).",
            _series(f"service_name, {PER_SECOND} AS requests_per_second", "traces", SERVED),
            unit="reqps",
        ),
        Panel(
            "Error ratio by service",
            "The share of server and consumer spans with status ERROR (errors).",
            _series(
                "service_name, CAST(sum(CASE WHEN status_code = 2 THEN 1 ELSE 0 END) AS double) / count(*) "
                "AS error_ratio",
                "traces",
                SERVED,
            ),
            unit="percentunit",
        ),
        Panel(
            "p95 duration by service",
            "The 95th percentile of server and consumer span durations, milliseconds (duration).",
            _series("service_name, approx_percentile(duration, 0.95) AS p95_ms", "traces", SERVED),
            unit="ms",
        ),
        Panel(
            "Services over the time range",
            "Per service: requests, errors, error ratio, average and p95 duration (ms).",
            "SELECT service_name, count(*) AS requests,\n"
            "  sum(CASE WHEN status_code = 2 THEN 1 ELSE 0 END) AS errors,\n"
            "  CAST(sum(CASE WHEN status_code = 2 THEN 1 ELSE 0 END) AS double) / count(*) AS error_ratio,\n"
            "  avg(CAST(duration AS double)) AS avg_ms, approx_percentile(duration, 0.95) AS p95_ms\n"
            f"FROM traces\nWHERE {IN_RANGE} AND {SERVED}\nGROUP BY 1\nORDER BY requests DESC, 1",
            kind="table",
        ),
    ),
)

ERROR_LOGS = "severity_number >= 17"
LOGS = Dashboard(
    "logs",
    "error logs (from logs)",
    ("logs",),
    (
        Panel(
            "Error logs per second by service and severity",
            "Log records of severity ERROR or FATAL (severity_number >= 17) per second.",
            _series(
                f"service_name, severity_text, {PER_SECOND} AS logs_per_second",
                "logs",
                ERROR_LOGS,
                group="1, 2, 3",
            ),
            unit="short",
            width=24,
        ),
        Panel(
            "Most frequent error messages",
            "The error log bodies seen most often in the time range, by service.",
            "SELECT service_name, severity_text, body, count(*) AS n\n"
            f"FROM logs\nWHERE {IN_RANGE} AND {ERROR_LOGS}\nGROUP BY 1, 2, 3\n"
            "ORDER BY n DESC, 1, 2, 3\nLIMIT 20",
            kind="table",
            width=24,
        ),
    ),
)

_VALUE_PANELS = {
    "sum": Panel(
        "Sums by metric (greatest value per interval)",
        "Sum metrics (counters): the greatest value in each interval, per metric name.",
        _series('metric_name, max(value) AS "value"', '"sum"'),
    ),
    "gauge": Panel(
        "Gauges by metric (average per interval)",
        "Gauge metrics: the average value in each interval, per metric name.",
        _series('metric_name, avg(value) AS "value"', "gauge"),
    ),
}
_HISTOGRAM_MEAN = 'metric_name, sum("sum") / nullif(CAST(sum("count") AS double), 0) AS mean'
_HISTOGRAM_PANELS = {
    table: Panel(
        f"{label} by metric (mean per interval)",
        f"{label} metrics: sum over count of the data points in each interval, per metric name.",
        _series(_HISTOGRAM_MEAN, table),
    )
    for table, label in (("histogram", "Histograms"), ("exp_histogram", "Exponential histograms"))
}
METRIC_PANELS: dict[str, Panel] = {**_VALUE_PANELS, **_HISTOGRAM_PANELS}


def dashboards(tables: tuple[str, ...]) -> list[Dashboard]:
    """The dashboards an env with these tables gets: RED with traces, error logs with logs, and one panel
    per metric table it has."""
    out = [d for d in (RED, LOGS) if set(d.tables) & set(tables)]
    metrics = tuple(t for t in METRIC_PANELS if t in tables)
    if metrics:
        panels = tuple(METRIC_PANELS[t] for t in metrics)
        out.append(Dashboard("metrics", "metrics (sum, gauge, histograms)", metrics, panels))
    return out
