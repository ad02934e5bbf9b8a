"""`doit query engine=athena` on the local AWS: what it prints about the bytes scanned and their cost, the
calls one query makes and how its rows are paged, the workgroup's scan limit, waiting on a held query with
the one poll, Ctrl-C stopping the query, an env without its workgroup or without read grants, and destroy
after queries ran in the workgroup."""

from __future__ import annotations

import base64
import json
import os

import pyarrow as pa
import pytest

from emulator.iceberg.store import get_store
from tasks import engines
from tasks.aws import CallCounter, Clients
from tests.cli.query_helpers import SIGNALS, lake
from tests.deploy_helpers import doit

BUCKET_ARN = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
WORKGROUP = "otlp2pipeline-local"
PRICE_LINE = (
    "billed 10.0 MB (the 10 MB minimum): $0.000050 at $5.00 per TB (https://aws.amazon.com/athena/pricing/)"
)


def _athena(emu, tmp_path, sql: str, *extra: str, signals: str = SIGNALS):
    args = ("query", "env=local", f"signals={signals}", "engine=athena", f"sql={sql}", *extra)
    return doit(emu, tmp_path, *args)


def _scanned(emu, qid: str) -> int:
    qe = emu.client("athena").get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    return int(qe["Statistics"]["DataScannedInBytes"])


def test_it_prints_the_data_scanned_and_its_cost(emulator, tmp_path):
    lake(emulator)
    sql = "select service_name, count(*) as n from logs group by 1 order by 1"
    text = _athena(emulator, tmp_path, sql)
    assert text.returncode == 0, text.stderr
    last = text.stdout.splitlines()[-1]
    assert last.startswith("athena: scanned ") and PRICE_LINE in last, last
    qid = last.rsplit("query ", 1)[1]
    assert _scanned(emulator, qid) > 0
    doc = _athena(emulator, tmp_path, sql, "format=json")
    assert doc.returncode == 0, doc.stderr
    scan = json.loads(doc.stdout)["scan"]  # stdout is the document alone
    assert scan["scanned_bytes"] == _scanned(emulator, scan["query_execution_id"]) > 0
    assert scan["billed_bytes"] == 10_000_000 and scan["cost_usd"] == 0.00005
    assert f"query {scan['query_execution_id']}" in doc.stderr
    table = _athena(emulator, tmp_path, sql, "format=csv")
    assert table.stdout.splitlines() == ["service_name,n", "api,7", "db,2"]  # the line goes to stderr
    assert PRICE_LINE in table.stderr


def test_one_query_makes_these_calls_and_pages_its_rows(emulator):
    cfg = lake(emulator)
    counter = CallCounter()
    many = "select a.body from logs a cross join logs b cross join logs c cross join logs d"  # 9^4 rows
    with engines.create("athena", cfg) as engine:
        engine.open(Clients(cfg, counter))
        assert dict(counter.calls) == {  # the account (for the table bucket's ARN), the tables, the workgroup
            ("sts", "GetCallerIdentity"): 1,
            ("s3tables", "ListTables"): 1,
            ("athena", "GetWorkGroup"): 1,
        }
        counter.calls.clear()
        every = engine.run(engine.check(many), 0)
        assert len(every.rows) == 9**4 and not every.truncated
        # 6,561 rows and the header, 1,000 a page
        assert counter.calls[("athena", "GetQueryResults")] == 7
        assert counter.calls[("athena", "StartQueryExecution")] == 1
        counter.calls.clear()
        five = engine.run(engine.check(many), 5)
        assert len(five.rows) == 5 and five.truncated
        assert counter.calls[("athena", "GetQueryResults")] == 1  # five rows, one more, and the header
        assert set(counter.calls) == {
            ("athena", "StartQueryExecution"),
            ("athena", "GetQueryExecution"),
            ("athena", "GetQueryResults"),
        }


def _big_logs(rows: int = 200_000) -> pa.Table:
    """Log rows whose bodies do not compress: more than 10 MB of Parquet column chunks."""
    schema = get_store().schema(BUCKET_ARN, "default", "logs").as_arrow()
    columns = []
    for field in schema:
        if field.name == "body":
            columns.append(
                pa.array([base64.b64encode(os.urandom(72)).decode() for _ in range(rows)], field.type)
            )
        elif pa.types.is_timestamp(field.type):
            columns.append(
                pa.array([1_780_000_000_000_000 + i for i in range(rows)], pa.int64()).cast(field.type)
            )
        elif pa.types.is_integer(field.type):
            columns.append(pa.array([9] * rows, field.type))
        elif field.nullable:
            columns.append(pa.nulls(rows, field.type))
        else:
            columns.append(pa.array(["big"] * rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def test_the_workgroups_scan_limit_cancels_a_query_in_one_line(emulator, tmp_path):
    limit = {"athena.bytes_scanned_cutoff_mb": "10"}
    lake(emulator, limit, rows=False)
    get_store().append(BUCKET_ARN, "default", "logs", _big_logs())
    sql = "select count(distinct body) as n from logs"
    out = _athena(emulator, tmp_path, sql, "athena.bytes_scanned_cutoff_mb=10")
    assert out.returncode == 1, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("error: Athena cancelled query ") and "at the workgroup's scan limit" in line
    assert "athena.bytes_scanned_cutoff_mb=10; 10.0 MB scanned, $0.000050)" in line, line
    qid = line.split()[4]
    state = emulator.client("athena").get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert state["State"] == "CANCELLED"
    duck = doit(emulator, tmp_path, "query", "env=local", f"signals={SIGNALS}", f"sql={sql}", "format=csv")
    assert duck.returncode == 0 and duck.stdout.splitlines() == ["n", "200000"], duck.stderr


def test_a_held_query_is_waited_for_with_growing_delays(emulator):
    cfg = lake(emulator)
    counter = CallCounter()
    emulator.set_faults({"latency": {"athena_queued_seconds": 2.0}})
    try:
        with engines.create("athena", cfg) as engine:
            engine.open(Clients(cfg, counter))
            res = engine.run(engine.check("select count(*) as n from logs"), 10)
    finally:
        emulator.clear_faults()
    assert res.rows == [(9,)]
    # 0.1 s, then x1.5: 2 s of QUEUED is seen in at most 9 reads (a fixed 0.1 s poll would take 20)
    assert 1 <= counter.calls[("athena", "GetQueryExecution")] <= 9


def test_ctrl_c_stops_the_query_it_waits_for(emulator, monkeypatch):
    cfg = lake(emulator)
    emulator.set_faults({"latency": {"athena_running_seconds": 600.0}})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    try:
        with engines.create("athena", cfg) as engine:
            engine.open(Clients(cfg))
            monkeypatch.setattr("tasks.polling.poll", interrupted)
            with pytest.raises(KeyboardInterrupt):
                engine.run(engine.check("select count(*) as n from logs"), 10)
        athena = emulator.client("athena")
        (qid,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
        assert (
            athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
            == "CANCELLED"
        )
    finally:
        emulator.clear_faults()


def test_an_env_without_its_workgroup_or_read_grants_says_what_to_do(emulator, tmp_path):
    lake(emulator)
    lf = emulator.client("lakeformation")
    catalog = "123456789012:s3tablescatalog/otlp2pipeline-local"
    lf.revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": "arn:aws:iam::123456789012:user/moto"},
        Permissions=["SELECT", "DESCRIBE"],
        Resource={"Table": {"CatalogId": catalog, "DatabaseName": "default", "TableWildcard": {}}},
    )
    denied = _athena(emulator, tmp_path, "select count(*) as n from logs")
    assert denied.returncode == 2
    line = denied.stderr.strip().splitlines()[-1]
    assert line.startswith("error: query failed: Insufficient permissions") and "Lake Formation" in line
    emulator.client("athena").delete_work_group(WorkGroup=WORKGROUP, RecursiveDeleteOption=True)
    gone = _athena(emulator, tmp_path, "select count(*) as n from logs")
    assert gone.returncode == 1
    assert gone.stderr.strip().splitlines()[-1] == (
        "error: env local has no Athena workgroup otlp2pipeline-local: run `doit deploy env=local` "
        "(the stack adds it)"
    )


def test_destroy_removes_the_workgroup_and_its_results_after_queries(emulator, tmp_path):
    lake(emulator)
    assert _athena(emulator, tmp_path, "select count(*) as n from logs").returncode == 0
    results = "otlp2pipeline-local-athena-123456789012-us-east-1"
    assert emulator.client("s3").list_objects_v2(Bucket=results)["KeyCount"] > 0
    out = doit(emulator, tmp_path, "destroy", "env=local", f"signals={SIGNALS}", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Athena results bucket {results} with " in out.stdout
    assert "deleted stack otlp2pipeline-local" in out.stdout
    assert WORKGROUP not in [w["Name"] for w in emulator.client("athena").list_work_groups()["WorkGroups"]]
    assert results not in [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]]
