"""The SQL the tool itself writes, in the subset both engines read alike: DuckDB and Athena (Trino).

The newest-row question of `doit tables` and `doit status`, the ready-made questions of the README and
docs/query.md, and (tasks/grafana_panels.py) the Grafana panels all stay inside it:

- intervals as `interval '1' hour` (a string and a unit), casts as `CAST(x AS type)`, never `x::type`;
- `GROUP BY 1, 2` (never `GROUP BY ALL`), `LIMIT n` without `OFFSET`;
- `date_trunc('minute', t)` for buckets (never `time_bucket`), `CAST(t AS date)` for days;
- a division that means a fraction casts to `double` first (Trino's `7 / 2` is 3);
- `"timestamp"`, `"sum"` and `"count"` quoted where they are names.

tests/cli/commands/test_query_dialect.py runs each of them through both engines on the local AWS, whose
Athena refuses DuckDB-only syntax as Athena does.
"""

from __future__ import annotations

from dataclasses import dataclass

from lake.duckdb_extensions import ident

TIME_COLUMN = "timestamp"


def newest_sql(table: str) -> str:
    """`doit tables`' newest row of a table: its greatest `timestamp`."""
    return f"SELECT max({ident(TIME_COLUMN)}) AS newest FROM {ident(table)}"


@dataclass(frozen=True)
class Question:
    """A ready-made question: what it asks, the tables it needs, and the SQL that asks it."""

    title: str
    tables: tuple[str, ...]
    sql: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "error logs in the last hour, by service",
        ("logs",),
        "select service_name, count(*) as errors from logs where severity_number >= 17 and "
        "\"timestamp\" >= current_timestamp - interval '1' hour group by 1 order by errors desc",
    ),
    Question(
        "the slowest spans today (duration is milliseconds)",
        ("traces",),
        'select "timestamp", service_name, span_name, duration, trace_id from traces where '
        '"timestamp" >= CAST(current_date AS timestamp) order by duration desc, "timestamp" limit 20',
    ),
    Question(
        "a metric's values per minute",
        ("gauge",),
        "select date_trunc('minute', \"timestamp\") as minute, avg(value) as avg_value, max(value) as "
        "max_value from gauge where metric_name = 'otlp2pipeline.test' group by 1 order by 1",
    ),
    Question(
        "rows per table per day (each day is its own partition)",
        ("logs", "traces"),
        "select 'logs' as t, CAST(\"timestamp\" AS date) as day, count(*) as n from logs group by 1, 2 "
        "union all select 'traces', CAST(\"timestamp\" AS date), count(*) from traces group by 1, 2 "
        "order by t, day",
    ),
)
