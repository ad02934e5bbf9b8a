"""`doit query`'s pure parts, no AWS: the read-only rule, table names, the DuckDB set-up SQL (local and
S3), output formats. The AWS (s3://) path cannot run here, so the SQL it would run is checked instead."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import duckdb
import pytest

from tasks import query
from tasks.config import load
from tasks.errors import UserError
from tasks.query_format import as_csv, as_json, as_text
from tasks.table_facts import age, facts_from_metadata, partition_text


def _cfg(signals: str = "logs,traces"):
    return load("local", {"signals": signals})


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("create table t as select 1", "CREATE"),
        ("copy (select 1) to '/tmp/x.csv'", "COPY"),
        ("COPY logs TO 'out.parquet' (FORMAT parquet)", "COPY"),
        ("attach '/tmp/x.db' as x", "ATTACH"),
        ("insert into logs values (1)", "INSERT"),
        ("delete from logs", "DELETE"),
        ("drop view logs", "DROP"),
        ("install httpfs", "LOAD"),
        ("load '/tmp/evil.duckdb_extension'", "LOAD"),
        ("set enable_external_access = true", "SET"),
        ("export database '/tmp/e'", "EXPORT"),
        ("call duckdb_settings()", "CALL"),
        ("explain analyze create table t as select 1", "CREATE"),
        ("explain copy (select 1) to '/tmp/x.csv'", "COPY"),
    ],
)
def test_statements_that_write_or_reconfigure_are_refused(sql, kind):
    with pytest.raises(UserError) as err:
        query.check_sql(sql)
    msg = str(err.value)
    article = "an" if kind[0] in "AEIOU" else "a"
    assert msg.startswith(f"error: sql is {article} {kind} statement: doit query is read-only"), msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "sql",
    ["select 1", "  select count(*) from logs;  ", "from logs limit 3", "describe logs", "pragma version",
     "explain select 1", "EXPLAIN ANALYZE select count(*) from logs", "with a as (select 1) select * from a"],
)  # fmt: skip
def test_reads_pass(sql):
    assert query.check_sql(sql).query.strip().rstrip(";").strip()


@pytest.mark.parametrize("sql", ["", "   ", "\n\t"])
def test_empty_sql_is_refused(sql):
    with pytest.raises(UserError, match=r"^error: sql='' is empty"):
        query.check_sql(sql)


def test_several_statements_and_bad_syntax_are_refused():
    with pytest.raises(UserError, match="holds 2 statements"):
        query.check_sql("select 1; select 2")
    with pytest.raises(UserError, match="holds 2 statements"):  # pivot hides a CREATE before its SELECT
        query.check_sql("pivot (select 1 as a) on a")
    with pytest.raises(UserError, match=r"^error: sql is not valid SQL: Parser Error"):
        query.check_sql("selec 1")
    with pytest.raises(UserError, match="no statement"):
        query.check_sql(";")


def test_table_names_must_be_the_envs_tables():
    cfg = _cfg("logs,traces")
    query.check_tables("select * from logs join traces using (trace_id)", cfg)
    query.check_tables("with sum as (select 1) select * from sum", cfg)  # a CTE is not a table
    query.check_tables("select * from information_schema.tables", cfg)  # qualified: DuckDB's own
    with pytest.raises(UserError, match=r"^error: no table 'spans' in env local"):
        query.check_tables("select * from spans s", cfg)  # no signal at all: refused before any call
    # Another signal's name may be a kept table (tasks/steps/kept_tables.py): known once the env is read.
    query.check_tables("select count(*) from logs, sum", cfg)
    query.check_tables("select count(*) from logs, sum", cfg, ["logs", "traces", "sum"])
    with pytest.raises(UserError) as err:
        query.check_tables("select count(*) from logs, gauge", cfg, ["logs", "traces", "sum"])
    assert str(err.value) == (
        "error: table 'gauge' is not a signal of env local, and no table of that name is kept: its tables "
        "are logs, traces, sum"
    )


def test_the_envs_tables_are_its_signals_then_its_kept_tables():
    cfg = _cfg("logs,traces")
    assert query.env_tables(cfg, ["gauge", "logs", "sum", "traces", "other"]) == [
        "logs",
        "traces",
        "gauge",
        "sum",
    ]
    assert query.env_tables(cfg, None) == ["logs", "traces"]


def test_every_extension_is_a_file_of_its_pinned_package():
    for name in (*query.LOCAL_EXTENSIONS, *query.S3_EXTENSIONS):
        path = query.extension_file(name)
        assert path.is_file() and path.name == f"{name}.duckdb_extension"
        assert f"duckdb_extension_{name}" in str(path) and f"v{duckdb.__version__}" in str(path)


LOCAL = query.TableRef(
    "logs",
    "file:///lake/otlp2pipeline-local/default/logs/metadata/00001-a.metadata.json",
    "file:///lake/otlp2pipeline-local/default/logs",
)
REMOTE = query.TableRef(
    "logs",
    "s3://0123abcd-5678--table-s3/metadata/00003-b.metadata.json",
    "s3://0123abcd-5678--table-s3",
)


def test_local_setup_loads_iceberg_by_path_views_each_table_and_locks_the_sandbox():
    sql = query.setup_sql([LOCAL], None)
    assert sql[:2] == [f"LOAD '{query.extension_file(n)}'" for n in ("avro", "iceberg")]
    assert not any("httpfs" in s or "SECRET" in s for s in sql)
    assert f"CREATE VIEW \"logs\" AS SELECT * FROM iceberg_scan('{LOCAL.metadata_location}')" in sql
    assert sql[-4:] == [
        "SET TimeZone = 'UTC'",
        "SET allowed_directories = ['file:///lake/otlp2pipeline-local/default/logs/', "
        "'/lake/otlp2pipeline-local/default/logs/']",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]


def test_s3_setup_adds_httpfs_aws_and_a_secret_of_the_sessions_credentials():
    creds = query.S3Credentials("AKIDEXAMPLE", "se'cret", "tok", "eu-west-1")
    sql = query.setup_sql([REMOTE], creds)
    assert sql[:4] == [f"LOAD '{query.extension_file(n)}'" for n in ("avro", "iceberg", "httpfs", "aws")]
    assert sql[4] == (
        "CREATE OR REPLACE SECRET otlp2pipeline_s3 (TYPE s3, KEY_ID 'AKIDEXAMPLE', SECRET 'se''cret', "
        "REGION 'eu-west-1', SESSION_TOKEN 'tok')"
    )
    assert "SET allowed_directories = ['s3://0123abcd-5678--table-s3/']" in sql
    # DuckDB's own parser reads the secret as one CREATE statement (the quote is escaped, not injected)
    assert [s.type for s in duckdb.extract_statements(sql[4])] == [duckdb.StatementType.CREATE]
    with pytest.raises(ValueError):
        query.setup_sql([REMOTE], None)


def test_secret_without_token_and_with_a_custom_endpoint():
    plain = query.s3_secret_sql(query.S3Credentials("A", "B", None, "us-east-1"))
    assert "SESSION_TOKEN" not in plain and "ENDPOINT" not in plain
    custom = query.s3_secret_sql(query.S3Credentials("A", "B", None, "us-east-1", "http://minio:9000"))
    assert "ENDPOINT 'minio:9000', URL_STYLE 'path', USE_SSL false" in custom


def test_connection_config_never_installs_or_autoloads():
    assert query.CONNECT_CONFIG["autoinstall_known_extensions"] == "false"
    assert query.CONNECT_CONFIG["autoload_known_extensions"] == "false"
    conn = duckdb.connect(":memory:", config=dict(query.CONNECT_CONFIG))
    # a function of a known but unloaded extension fails instead of fetching it
    with pytest.raises(duckdb.Error):
        conn.execute("select * from iceberg_scan('x')")
    loaded = {
        r[0] for r in conn.execute("select extension_name from duckdb_extensions() where loaded").fetchall()
    }
    assert "iceberg" not in loaded and "httpfs" not in loaded


def _result(rows, columns=("a", "b"), limit=100, truncated=False):
    return query.Result(list(columns), ["VARCHAR"] * len(columns), rows, truncated, limit)


def test_text_is_aligned_with_a_footer_that_says_when_it_truncates():
    res = _result([("x", 1), ("longer", 22)], limit=2, truncated=True)
    lines = as_text(res).splitlines()
    assert lines[0] == "a        b"
    assert lines[1:4] == ["------  --", "x        1", "longer  22"]
    assert lines[-1] == "(2 rows shown: limit=2 cut the result; limit=0 shows every row)"
    assert as_text(_result([("x", None)])).splitlines()[-1] == "(1 row)"


def test_json_and_csv_keep_every_value():
    when = dt.datetime(2026, 11, 2, 10, 9, 59, 123456)
    rows = [('a,"b"\nc', when, Decimal("1.50"), None, 7)]
    res = _result(rows, columns=("s", "t", "d", "n", "i"))
    doc = json.loads(as_json(res))
    assert doc["rows"] == [
        {"s": 'a,"b"\nc', "t": "2026-11-02 10:09:59.123456", "d": "1.50", "n": None, "i": 7}
    ]
    assert doc["truncated"] is False and doc["row_count"] == 1
    back = list(csv.reader(io.StringIO(as_csv(res))))
    assert back == [["s", "t", "d", "n", "i"], ['a,"b"\nc', "2026-11-02 10:09:59.123456", "1.50", "", "7"]]


def test_table_facts_from_a_metadata_document():
    meta = {
        "current-schema-id": 0,
        "schemas": [{"schema-id": 0, "fields": [{"id": 1, "name": "timestamp"}, {"id": 2, "name": "x"}]}],
        "default-spec-id": 0,
        "partition-specs": [{"spec-id": 0, "fields": [{"source-id": 1, "transform": "day", "name": "d"}]}],
        "current-snapshot-id": 2,
        "snapshots": [
            {"snapshot-id": 1, "timestamp-ms": 1000, "summary": {"total-records": "5"}},
            {"snapshot-id": 2, "timestamp-ms": 1764584400000,
             "summary": {"total-records": "9", "total-data-files": "3", "total-files-size": "4096"}},
        ],
    }  # fmt: skip
    f = facts_from_metadata("logs", "loc", meta, None)
    assert (f.rows, f.data_files, f.total_bytes, f.snapshots) == (9, 3, 4096, 2)
    assert f.last_commit == dt.datetime(2025, 12, 1, 10, 20, tzinfo=dt.UTC)
    assert f.partition_spec == "day(timestamp)"
    assert partition_text({**meta, "partition-specs": [{"spec-id": 0, "fields": []}]}) == "unpartitioned"
    empty = facts_from_metadata("logs", "loc", {**meta, "snapshots": [], "current-snapshot-id": None}, None)
    assert (empty.rows, empty.snapshots, empty.last_commit) == (0, 0, None)


def test_age_reads_like_a_person_would_say_it():
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    assert age(now, now - dt.timedelta(seconds=42)) == "42s"
    assert age(now, now - dt.timedelta(minutes=12)) == "12m"
    assert age(now, now - dt.timedelta(hours=3, minutes=5)) == "3h 5m"
    assert age(now, now - dt.timedelta(days=2, hours=4)) == "2d 4h"
    assert age(now, now + dt.timedelta(minutes=5)) == "in 5m"
    assert age(now, None) == "-"


def test_explain_with_options_is_a_read_and_the_secret_is_never_shown():
    assert query.check_sql("explain (format json) select 1").type == duckdb.StatementType.EXPLAIN
    conn = duckdb.connect(":memory:", config=dict(query.CONNECT_CONFIG))
    conn.execute(f"LOAD '{query.extension_file('httpfs')}'")
    conn.execute(
        query.s3_secret_sql(query.S3Credentials("AKIDSHOWN", "verysecretvalue", "tok3n", "us-east-1"))
    )
    conn.execute("SET lock_configuration = true")
    shown = str(conn.execute("select * from duckdb_secrets()").fetchall())
    assert "otlp2pipeline_s3" in shown and "verysecretvalue" not in shown and "tok3n" not in shown
    with pytest.raises(duckdb.Error):
        conn.execute("select * from duckdb_secrets(redact=false)")
