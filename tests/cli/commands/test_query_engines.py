"""The query engines' contract, on the local AWS: every engine of tasks/engines/ answers the same questions
the same, refuses the same statements before any call, cuts at the same limit, writes the same formats and
fails the same way (as pyiceberg runs its catalog behaviours against every catalog). A new engine is added
to the registry and runs here unchanged.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tasks import engines
from tasks.aws import Clients
from tasks.engines.sql import QUESTIONS
from tasks.errors import UserError
from tests.cli.query_helpers import SIGNALS, lake
from tests.deploy_helpers import config, doit, total_calls

ENGINES = engines.names()
CONTRACT_QUESTIONS = (
    *(q.sql for q in QUESTIONS),
    "select count(*) as n from logs",
    "select service_name, severity_text, count(*) as n from logs group by 1, 2 order by 1, 2",
    "select body, severity_number from logs where body like 'say%'",  # a quote and a newline in a value
    'select is_monotonic, count(*) as n, sum(value) as total from "sum" group by 1 order by 1',
    'select metric_name, avg(value) as v, min("timestamp") as first_seen from gauge group by 1 order by 1',
    "select trace_id, duration from traces where duration > 100000 order by 1",  # no row
    "select service_name, CAST(count(*) AS double) / 3 as third from logs group by 1 order by 1",
    'select CAST("timestamp" AS date) as day, count(*) as n from logs group by 1 order by 1',
    'select metric_name, "count", bucket_counts is null as no_buckets from histogram order by 1, 2 limit 3',
)
WRITES = (
    "insert into logs select * from logs",
    "create table copy as select * from logs",
    "delete from logs",
    "drop table logs",
    "update logs set body = 'x'",
    "copy logs to 'out.csv'",
    "attach 'other.db' as other",
    "set threads = 1",
    "select 1; drop table logs",
)


def _answers(name: str, cfg) -> dict:
    with engines.create(name, cfg) as engine:
        tables = engine.open(Clients(cfg))
        answers = []
        for sql in CONTRACT_QUESTIONS:
            res = engine.run(engine.check(sql, tables), 100)
            answers.append((res.columns, res.rows, res.truncated))
        cut = engine.run(engine.check("select service_name from logs order by 1", tables), 2)
        every = engine.run(engine.check("select service_name from logs order by 1", tables), 0)
        return {
            "tables": tables,
            "newest": {t: engine.newest(t) for t in tables},
            "answers": answers,
            "limit 2": (cut.rows, cut.truncated),
            "limit 0": (len(every.rows), every.truncated),
        }


def test_the_same_questions_answer_the_same_on_every_engine(emulator):
    cfg = lake(emulator)
    got = {name: _answers(name, cfg) for name in ENGINES}
    first = got[ENGINES[0]]
    for name in ENGINES[1:]:
        for key in first:
            assert got[name][key] == first[key], (name, key)
    # ... and they are the right answers, not only equal ones
    assert first["tables"] == SIGNALS.split(",")
    assert first["answers"][0][1] == [("api", 3), ("db", 2)]  # the README's error logs of the last hour
    assert [r[3] for r in first["answers"][1][1]] == [900, 900, 120, 120, 120, 120, 5, 5]
    assert first["answers"][6][1] == [('say "hi"\nthen, bye', 9)]
    assert first["answers"][9][1] == []
    assert first["limit 2"][1] is True and len(first["limit 2"][0]) == 2
    assert first["limit 0"] == (9, False)
    assert all(v is not None and v.tzinfo is not None for v in first["newest"].values())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_writing_statement_is_refused_before_any_call(emulator, tmp_path, engine):
    cfg = config(emulator, {"signals": SIGNALS})
    emulator.reset_calls()
    for sql in WRITES:
        with pytest.raises(UserError) as info:
            engines.create(engine, cfg).check(sql)
        assert str(info.value).startswith("error: sql ") and "\n" not in str(info.value), sql
    for sql in WRITES[:3]:  # and through the command, as a user types it
        out = doit(emulator, tmp_path, "query", "env=local", f"engine={engine}", f"sql={sql}")
        assert out.returncode == 2, (sql, out.stderr)
        assert out.stderr.strip().splitlines()[-1].startswith("error: sql is a"), out.stderr
    assert total_calls(emulator) == 0


def _cli(emu, tmp_path, engine: str, sql: str, *extra: str):
    return doit(
        emu, tmp_path, "query", "env=local", f"signals={SIGNALS}", f"engine={engine}", f"sql={sql}", *extra
    )


def test_formats_limits_and_errors_are_the_same_on_every_engine(emulator, tmp_path):
    lake(emulator)
    sql = "select service_name, severity_number, body from logs order by 1, 2, 3"
    out: dict[str, dict[str, str]] = {}
    for engine in ENGINES:
        out[engine] = {}
        for fmt in ("text", "json", "csv"):
            run = _cli(emulator, tmp_path, engine, sql, f"format={fmt}", "limit=4")
            assert run.returncode == 0, run.stderr
            out[engine][fmt] = run.stdout
        missing = _cli(emulator, tmp_path, engine, "select nosuch from logs")
        assert missing.returncode == 2 and "error: query failed: " in missing.stderr, missing.stderr
        emulator.reset_calls()
        unknown = _cli(emulator, tmp_path, engine, "select * from nosuch")
        assert unknown.returncode == 2 and "no table 'nosuch'" in unknown.stderr, unknown.stderr
        assert total_calls(emulator) == 0  # refused before any call
    first = out[ENGINES[0]]
    for engine in ENGINES[1:]:
        mine = out[engine]
        assert mine["csv"] == first["csv"]
        doc, base = json.loads(mine["json"]), json.loads(first["json"])
        assert {k: v for k, v in doc.items() if k not in ("columns", "scan")} == {
            k: v for k, v in base.items() if k not in ("columns", "scan")
        }
        assert [c["name"] for c in doc["columns"]] == [c["name"] for c in base["columns"]]
        text = [line for line in mine["text"].splitlines() if not line.startswith("athena: ")]
        assert text == [line for line in first["text"].splitlines() if not line.startswith("athena: ")]
    rows = list(csv.reader(io.StringIO(first["csv"])))
    assert rows[0] == ["service_name", "severity_number", "body"] and len(rows) == 5
    assert json.loads(first["json"])["truncated"] is True
    assert (
        first["text"].splitlines()[-1 if ENGINES[0] == "duckdb" else -2].startswith("(4 rows shown: limit=4")
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_an_env_that_is_not_deployed_says_so(emulator, tmp_path, engine):
    out = _cli(emulator, tmp_path, engine, "select count(*) from logs")
    assert out.returncode == 1, out.stderr
    assert "run `doit deploy env=local`" in out.stderr.strip().splitlines()[-1]
