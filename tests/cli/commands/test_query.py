"""`doit query`, `doit tables` and status freshness on the local AWS, through the real doit CLI.

Two days of rows are written with chosen timestamps (integer epoch microseconds, as Firehose accepts them)
through PutRecordBatch, so the range, pruning and freshness figures are known exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import select
import shlex
import subprocess
import time

import pyarrow.compute as pc
from pyiceberg.table import StaticTable

from tests.cli.query_helpers import put
from tests.deploy_helpers import DOIT, ROOT, deploy, doit, mutating, total_calls

SIGNALS = "logs,traces"
DAY1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
BUCKET_ARN = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"


def _two_days(emu, run_id: str = "run-days") -> list[dt.datetime]:
    """300 rows a minute apart from 10:00 on each of two days, in two deliveries (one per day)."""
    day1 = [DAY1 + dt.timedelta(hours=10, minutes=i) for i in range(300)]
    day2 = [DAY2 + dt.timedelta(hours=10, minutes=i) for i in range(300)]
    put(emu, "logs", run_id, day1)
    put(emu, "logs", f"{run_id}-2", day2)
    return day1 + day2


def _query(emu, tmp_path, sql: str, *extra: str):
    """`doit query ...` as a person types it: with format=json|csv, doit's own `.  query` line goes to
    stderr (tasks/cli/reporter.py), so stdout is the document alone."""
    return doit(emu, tmp_path, "query", "env=local", f"signals={SIGNALS}", f"sql={sql}", *extra)


def _json(out) -> dict:
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def _metadata(emu, signal: str = "logs") -> str:
    return emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=BUCKET_ARN, namespace="default", name=signal
    )["metadataLocation"]


def test_send_1000_then_count_that_runs_rows(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    sent = doit(emulator, tmp_path, "send", "env=local", f"signals={SIGNALS}", "signal=logs", "count=1000")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    run_id = re.search(r"^run_id=(\S+)$", sent.stdout, re.M).group(1)  # type: ignore[union-attr]
    put(emulator, "logs", "run-other", [DAY1] * 7)  # another run's rows are not counted
    sql = f"select count(*) as n from logs where service_instance_id like '{run_id}:%'"
    assert _json(_query(emulator, tmp_path, sql, "format=json"))["rows"] == [{"n": 1000}]
    hint = re.search(r"^look: doit (query .*)$", sent.stdout, re.M)  # the line send prints, as pasted
    assert hint, sent.stdout
    pasted = doit(emulator, tmp_path, *shlex.split(hint.group(1)), f"signals={SIGNALS}")
    assert pasted.returncode == 0, pasted.stderr
    assert [x.strip() for x in pasted.stdout.splitlines()[-2:]] == ["1000", "(1 row)"], pasted.stdout
    text = _query(emulator, tmp_path, sql)
    assert text.returncode == 0 and text.stdout.splitlines()[-4:] == ["   n", "----", "1000", "(1 row)"]


def test_a_time_range_returns_exactly_the_rows_in_it(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    stamps = _two_days(emulator)
    lo, hi = DAY1 + dt.timedelta(hours=12), DAY2 + dt.timedelta(hours=11, minutes=30)  # both are rows
    sql = (
        "select service_instance_id as k, timestamp from logs "
        f"where timestamp >= '{lo:%Y-%m-%d %H:%M:%S}' and timestamp < '{hi:%Y-%m-%d %H:%M:%S}'"
    )
    doc = _json(_query(emulator, tmp_path, sql, "format=json", "limit=0"))
    got = sorted(dt.datetime.fromisoformat(r["timestamp"]).replace(tzinfo=dt.UTC) for r in doc["rows"])
    want = sorted(t for t in stamps if lo <= t < hi)
    assert got == want and len(want) == 180 + 90 and doc["truncated"] is False


def _files_read(plan: str) -> list[int]:
    return [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]


def test_a_one_day_filter_prunes_the_other_days_files(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    _two_days(emulator)
    files = StaticTable.from_metadata(_metadata(emulator)).inspect.files().to_pylist()
    per_day: dict[str, int] = {}
    for f in files:
        day = str(f["partition"]["timestamp_day"])
        per_day[day] = per_day.get(day, 0) + 1
    assert set(per_day) == {"2026-11-01", "2026-11-02"}, per_day
    one_day = (
        "explain analyze select count(*) from logs "
        "where timestamp >= '2026-11-02' and timestamp < '2026-11-03'"
    )
    out = _query(emulator, tmp_path, one_day)
    assert out.returncode == 0, out.stderr
    assert _files_read(out.stdout) == [per_day["2026-11-02"]], out.stdout
    assert "timestamp_day=2026-11-02" in out.stdout and "timestamp_day=2026-11-01" not in out.stdout
    whole = _query(
        emulator, tmp_path, "explain analyze select count(*) from logs where timestamp > '2000-01-01'"
    )
    assert _files_read(whole.stdout) == [len(files)], whole.stdout


def test_tables_figures_equal_what_pyiceberg_reads_from_the_same_snapshot(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    stamps = _two_days(emulator)
    doc = _json(doit(emulator, tmp_path, "tables", "env=local", f"signals={SIGNALS}", "format=json"))
    by_name = {t["table"]: t for t in doc["tables"]}
    assert list(by_name) == ["logs", "traces"]
    for name, t in by_name.items():
        table = StaticTable.from_metadata(t["metadata_location"])
        assert t["metadata_location"] == _metadata(emulator, name)
        files = table.inspect.files().to_pylist()
        data = table.scan().to_arrow()
        snap = table.current_snapshot()
        assert t["rows"] == data.num_rows
        assert t["data_files"] == len(files)
        assert t["total_bytes"] == sum(f["file_size_in_bytes"] for f in files)
        assert t["snapshots"] == len(table.metadata.snapshots)
        want_commit = None if snap is None else dt.datetime.fromtimestamp(snap.timestamp_ms / 1000, dt.UTC)
        assert t["last_commit"] == (None if want_commit is None else want_commit.isoformat())
        spec = table.spec()
        assert t["partition_spec"] == ", ".join(
            f"{f.transform}({table.schema().find_column_name(f.source_id)})" for f in spec.fields
        )
        newest = pc.max(data.column("timestamp")).as_py() if data.num_rows else None
        assert t["newest_timestamp"] == (
            None if newest is None else newest.replace(tzinfo=dt.UTC).isoformat()
        )
    assert by_name["logs"]["rows"] == 600 and by_name["logs"]["snapshots"] == 2
    assert by_name["logs"]["newest_timestamp"] == max(stamps).isoformat()
    assert by_name["traces"]["rows"] == 0 and by_name["traces"]["newest_timestamp"] is None
    text = doit(emulator, tmp_path, "tables", "env=local", f"signals={SIGNALS}")
    assert text.returncode == 0, text.stderr
    logs_line = next(line for line in text.stdout.splitlines() if line.startswith("logs "))
    assert " 600 " in logs_line and "day(timestamp)" in logs_line and "2026-11-02 14:59:00" in logs_line


def test_status_shows_freshness_with_one_read_per_table_and_no_op_deploy_reads_are_unchanged(
    emulator, tmp_path
):
    deploy(emulator, {"signals": SIGNALS})
    _two_days(emulator)
    emulator.reset_calls()
    deploy(emulator, {"signals": SIGNALS})  # the no-op deploy reads no table
    assert emulator.call_count("s3tables", "GetTableMetadataLocation") == 0
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "status", "env=local", f"signals={SIGNALS}", "format=json")
    assert emulator.call_count("s3tables", "GetTableMetadataLocation") == 2  # one per table
    doc = json.loads(out.stdout)
    fresh = {t["table"]: t for t in doc["freshness"]["tables"]}
    assert fresh["logs"]["newest_timestamp"] == "2026-11-02T14:59:00+00:00" and fresh["logs"]["rows"] == 600
    assert fresh["traces"]["newest_timestamp"] is None
    text = doit(emulator, tmp_path, "status", "env=local", f"signals={SIGNALS}")
    assert "freshness logs: 600 rows, newest timestamp 2026-11-02 14:59:00 (" in text.stdout
    assert "freshness traces: 0 rows, newest timestamp - (none)" in text.stdout


def test_bad_input_is_refused_before_any_aws_call(emulator, tmp_path):
    cases = {
        "sql=": "error: sql='' is empty",
        "sql=create table t as select 1": "error: sql is a CREATE statement: doit query is read-only",
        "sql=copy (select * from logs) to '/tmp/out.csv'": "error: sql is a COPY statement",
        "sql=attach '/tmp/x.db' as x": "error: sql is an ATTACH statement: doit query is read-only",
        "sql=select * from spans": "error: no table 'spans' in env local: its tables are logs, traces",
        "limit=-1": "error: limit='-1' is invalid: must be an integer >= 0",
        "format=yaml": "error: format='yaml' is invalid: must be one of text, json, csv",
    }
    for arg, message in cases.items():
        emulator.reset_calls()
        args = [arg] if arg.startswith("sql=") else [arg, "sql=select 1"]
        out = doit(emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}", *args)
        assert out.returncode == 2, (arg, out.stdout, out.stderr)
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, (arg, out.stderr)
        assert total_calls(emulator) == 0, arg


def test_a_signal_that_is_neither_deployed_nor_kept_is_refused_once_the_tables_are_read(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}", "sql=select * from sum")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (
        "error: table 'sum' is not a signal of env local, and no table of that name is kept: its tables are "
        "logs, traces"
    )
    assert mutating(emulator) == {}


def test_a_sql_error_is_one_line_with_exit_2_and_an_undeployed_env_says_deploy(emulator, tmp_path):
    out = _query(emulator, tmp_path, "select 1")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "error: env local is not deployed" in out.stderr and "run `doit deploy env=local`" in out.stderr
    tables = doit(emulator, tmp_path, "tables", "env=local", f"signals={SIGNALS}")
    assert tables.returncode == 1 and "run `doit deploy env=local`" in tables.stderr, tables.stderr
    status = doit(emulator, tmp_path, "status", "env=local", f"signals={SIGNALS}")
    assert "freshness: unavailable: env local is not deployed" in status.stdout, status.stdout
    deploy(emulator, {"signals": SIGNALS})
    bad = _query(emulator, tmp_path, "select no_such_column from logs")
    assert bad.returncode == 2
    assert (
        bad.stderr.strip().startswith("error: query failed: Binder Error")
        and len(bad.stderr.splitlines()) == 1
    )


def test_the_connection_cannot_write_or_reach_other_files_even_past_the_statement_check(emulator, tmp_path):
    import duckdb
    import pytest

    from tasks.aws import Clients
    from tasks.query import open_env
    from tests.deploy_helpers import config

    deploy(emulator, {"signals": SIGNALS})
    conn, refs = open_env(
        Clients(config(emulator, {"signals": SIGNALS})), config(emulator, {"signals": SIGNALS})
    )
    target = tmp_path / "leak.csv"
    for sql in (
        f"copy (select 1) to '{target}'",
        f"attach '{tmp_path / 'x.db'}' as x",
        "select * from read_text('/etc/hostname')",
        "set enable_external_access = true",
        "install httpfs",
    ):
        with pytest.raises(duckdb.Error):
            conn.execute(sql)
    assert not target.exists()
    assert conn.execute("select count(*) from logs").fetchone() == (0,)
    assert [r.signal for r in refs] == ["logs", "traces"]


def test_format_json_parses_and_csv_round_trips(emulator, tmp_path):
    deploy(emulator, {"signals": SIGNALS})
    put(emulator, "logs", "run-fmt", [DAY1 + dt.timedelta(seconds=i) for i in range(5)])
    sql = (
        "select service_instance_id, timestamp, severity_number, 'a,\"b\"' || service_instance_id as tricky "
        "from logs order by timestamp"
    )
    doc = _json(_query(emulator, tmp_path, sql, "format=json"))
    assert [c["name"] for c in doc["columns"]] == [
        "service_instance_id",
        "timestamp",
        "severity_number",
        "tricky",
    ]
    assert [r["service_instance_id"] for r in doc["rows"]] == [f"run-fmt:{i}" for i in range(5)]
    out = _query(emulator, tmp_path, sql, "format=csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows == [{k: str(v) for k, v in r.items()} for r in doc["rows"]]
    cut = _query(emulator, tmp_path, sql, "limit=2")
    assert cut.stdout.splitlines()[-1] == "(2 rows shown: limit=2 cut the result; limit=0 shows every row)"
    assert len(_json(_query(emulator, tmp_path, sql, "format=json", "limit=2"))["rows"]) == 2


def test_query_without_sql_opens_a_prompt_on_a_terminal(emulator, tmp_path):
    import pty

    deploy(emulator, {"signals": SIGNALS})
    put(emulator, "logs", "run-tty", [DAY1] * 3)
    leader, follower = pty.openpty()
    env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint, "PYTHONUNBUFFERED": "1"}
    cmd = [*DOIT, "--db-file", str(tmp_path / "deps.json"), "query", "env=local", f"signals={SIGNALS}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    os.write(leader, b"select count(*) as n from logs\ncreate table t (a int)\n.quit\n")
    seen = b""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                seen += os.read(leader, 65536)
            except OSError:
                break
    proc.wait(timeout=30)
    os.close(leader)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "tables logs, traces" in text and "local> " in text
    assert re.search(r"^\s*3\s*$", text, re.M), text
    assert "error: sql is a CREATE statement" in text
    stdin_closed = doit(emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}")
    assert stdin_closed.returncode == 2 and "sql is missing" in stdin_closed.stderr


def _readme_questions() -> list[list[str]]:
    text = (ROOT / "docs" / "query.md").read_text()
    block = text[text.index("Ready questions") :]
    block = block[block.index("```bash") : block.index("```", block.index("```bash") + 3)]
    return [shlex.split(line) for line in block.splitlines() if line.startswith("doit query ")]


def test_the_readme_ready_questions_run_as_pasted(emulator, tmp_path):
    deploy(emulator)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    put(emulator, "gauge", "run-readme", [now - dt.timedelta(minutes=i) for i in range(3)])
    put(
        emulator,
        "logs",
        "run-err",
        [now - dt.timedelta(minutes=5)] * 2,
        severity_number=17,
        service_name="api",
    )
    put(emulator, "logs", "run-old", [now - dt.timedelta(days=1, hours=1)] * 3)  # severity 9, yesterday
    # "today" is `current_date` when the query runs, seconds after `now`: spans ten minutes ahead are still
    # today then, even when midnight UTC passes in between (spans at `now` would be yesterday's then).
    spans_at = now + dt.timedelta(minutes=10)
    put(emulator, "traces", "run-spans", [spans_at, spans_at], duration=900)
    questions = _readme_questions()
    assert len(questions) == 4
    outputs = []
    for argv in questions:
        args = ["env=local" if a == "env=prod" else a for a in argv[1:]]
        out = doit(emulator, tmp_path, *args, "format=json")
        assert out.returncode == 0, (argv, out.stderr)
        outputs.append(json.loads(out.stdout))
    assert outputs[0]["rows"] == [{"service_name": "api", "errors": 2}]
    assert [r["duration"] for r in outputs[1]["rows"]] == [900, 900]
    assert len(outputs[2]["rows"]) == 3  # the metric, one row per minute
    want: dict[tuple[str, str], int] = {}
    for key, n in (
        (("logs", str((now - dt.timedelta(minutes=5)).date())), 2),
        (("logs", str((now - dt.timedelta(days=1, hours=1)).date())), 3),
        (("traces", str(spans_at.date())), 2),
    ):
        want[key] = want.get(key, 0) + n
    assert {(r["t"], r["day"]): r["n"] for r in outputs[3]["rows"]} == want
