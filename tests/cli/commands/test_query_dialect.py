"""The SQL the tool writes runs on both engines: `doit tables`' newest row, the ready-made questions, and
every Grafana panel (its macros expanded as Grafana's Athena data source expands them). The local AWS's
Athena refuses what Trino refuses (DuckDB-only syntax, functions Trino lacks), so a query outside the
common subset fails here as it would on Athena: the DuckDB dialect the README's questions used to be in
is the proof that this test can fail.
"""

from __future__ import annotations

import datetime as dt

from tasks import engines
from tasks.aws import Clients
from tasks.engines.sql import QUESTIONS, newest_sql
from tasks.grafana_panels import dashboards
from tests.cli.grafana_macros import expand
from tests.cli.query_helpers import SIGNALS, lake
from tests.deploy_helpers import doit

# The ready-made questions as the README had them, in DuckDB's dialect only.
DUCKDB_ONLY = (
    "select service_name, count(*) as errors from logs where severity_number >= 17 and timestamp >= "
    "now()::timestamp - interval 1 hour group by all order by errors desc",
    "select time_bucket(interval 1 minute, timestamp) as minute, avg(value) as avg from gauge group by all",
    "select 'logs' as t, timestamp::date as day, count(*) as n from logs group by all",
)


def _generated(tables: list[str]) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    panels = [p.sql for board in dashboards(tuple(tables)) for p in board.panels]
    return [
        *(newest_sql(t) for t in tables),
        *(q.sql for q in QUESTIONS),
        *(expand(sql, now - dt.timedelta(hours=6), now + dt.timedelta(hours=1), "1m") for sql in panels),
    ]


def test_every_query_the_tool_writes_runs_alike_on_both_engines(emulator):
    cfg = lake(emulator)
    answers: dict[str, list] = {}
    for name in engines.names():
        with engines.create(name, cfg) as engine:
            tables = engine.open(Clients(cfg))
            queries = _generated(tables)
            answers[name] = [engine.run(engine.check(sql, tables), 0) for sql in queries]
    duck, athena = answers["duckdb"], answers["athena"]
    assert len(duck) == len(athena) == len(_generated(SIGNALS.split(","))) > 15
    for d, a in zip(duck, athena, strict=True):
        assert (a.columns, a.rows) == (d.columns, d.rows)
    assert sum(1 for d in duck if d.rows) >= len(duck) - 2  # the data answers nearly every one of them


def test_the_local_athena_refuses_duckdb_only_sql_that_duckdb_runs(emulator, tmp_path):
    lake(emulator, rows=False)
    for sql in DUCKDB_ONLY:
        ran = doit(emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}", f"sql={sql}")
        assert ran.returncode == 0, ran.stderr
        refused = doit(
            emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}", "engine=athena", f"sql={sql}"
        )
        assert refused.returncode == 2, refused.stderr
        line = refused.stderr.strip().splitlines()[-1]
        assert line.startswith("error: query failed: ") and ("SYNTAX_ERROR" in line or "FUNCTION_NOT" in line)
