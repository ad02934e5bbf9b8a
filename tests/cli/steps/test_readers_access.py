"""A reader granted through `readers`, with the stack's managed policy attached as the docs say, reads on
every path the local AWS has: Athena (Lake Formation), Glue (Lake Formation) and `doit query` (DuckDB,
through S3 Tables: IAM, after a Glue GetTable that Lake Formation governs). A principal not granted gets
Lake Formation's error on all three; one without the policy is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.records import encode, make_records
from tests.cli import readers_helpers as rh
from tests.deploy_helpers import deploy


@pytest.fixture
def lake(emulator: Any) -> Any:
    """The env deployed with the analyst as its reader, 7 log rows landed, and the workgroup in place;
    Grafana's role exists with the same managed policy, but is no reader."""
    rh.people(emulator)
    deploy(emulator, rh.with_readers(rh.ANALYST))
    records = make_records("logs", "run-readers", 7)
    resp = emulator.client("firehose").put_record_batch(
        DeliveryStreamName="otlp2pipeline-local-logs", Records=[{"Data": encode(r)} for r in records]
    )
    assert resp["FailedPutCount"] == 0
    emulator.flush()
    rh.ensure_workgroup(emulator)
    rh.attach_readers_policy(emulator, rh.ANALYST)
    rh.attach_readers_policy(emulator, rh.GRAFANA)
    return emulator


def test_a_reader_queries_through_athena_and_a_principal_not_granted_gets_lake_formations_error(lake):
    athena = rh.client_as(lake, "athena", rh.credentials(lake, rh.ANALYST))
    qe = rh.athena_query(athena, "SELECT count(*) AS n FROM logs")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    rows = athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])["ResultSet"]["Rows"]
    assert [c["VarCharValue"] for c in rows[1]["Data"]] == ["7"]
    other = rh.client_as(lake, "athena", rh.credentials(lake, rh.GRAFANA))
    qe = rh.athena_query(other, "SELECT count(*) AS n FROM logs")
    assert qe["Status"]["State"] == "FAILED"
    assert qe["Status"]["StateChangeReason"] == rh.NO_DATABASE
    assert qe["Status"]["AthenaError"]["ErrorType"] == 1500  # "Permission error"


def test_glue_shows_a_reader_the_tables_and_refuses_a_principal_not_granted(lake):
    glue = rh.client_as(lake, "glue", rh.credentials(lake, rh.ANALYST))
    tables = glue.get_tables(CatalogId=rh.CATALOG_ID, DatabaseName="default")["TableList"]
    assert [t["Name"] for t in tables] == ["logs", "traces"]
    assert (
        glue.get_table(CatalogId=rh.CATALOG_ID, DatabaseName="default", Name="logs")["Table"]["Name"]
        == "logs"
    )
    other = rh.client_as(lake, "glue", rh.credentials(lake, rh.GRAFANA))
    for call, name in (
        (lambda: other.get_table(CatalogId=rh.CATALOG_ID, DatabaseName="default", Name="logs"), "logs"),
        (lambda: other.get_tables(CatalogId=rh.CATALOG_ID, DatabaseName="default"), "default"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
        assert (
            exc.value.response["Error"]["Message"] == f"Insufficient Lake Formation permission(s) on {name}"
        )


def test_doit_query_refuses_a_principal_not_granted_with_lake_formations_error(lake, tmp_path):
    """Grafana's role holds the readers' policy (IAM lets it read S3 Tables) but no grant: DuckDB's path
    asks Lake Formation first, as Athena's does."""
    creds = rh.credentials(lake, rh.GRAFANA)
    sql = "sql=select count(*) as n from logs"
    out = rh.doit_as(lake, tmp_path, creds, "query", "env=local", "signals=logs,traces", sql, "format=json")
    assert out.returncode == 4, out.stdout + out.stderr  # an AWS error
    assert "AccessDeniedException: Insufficient Lake Formation permission(s) on logs" in out.stderr, (
        out.stderr
    )
    assert out.stdout == ""


def test_doit_query_reads_with_the_managed_policy_and_is_refused_without_it(lake, tmp_path):
    creds = rh.credentials(lake, rh.ANALYST)
    sql = "sql=select count(*) as n from logs"
    out = rh.doit_as(lake, tmp_path, creds, "query", "env=local", "signals=logs,traces", sql, "format=json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["rows"] == [{"n": 7}]
    iam = lake.client("iam")
    (attached,) = iam.list_attached_role_policies(RoleName="analyst")["AttachedPolicies"]
    iam.detach_role_policy(RoleName="analyst", PolicyArn=attached["PolicyArn"])
    out = rh.doit_as(lake, tmp_path, creds, "query", "env=local", "signals=logs,traces", sql, "format=json")
    assert out.returncode == 4, out.stdout + out.stderr  # an AWS error
    assert "AccessDeniedException" in out.stderr and "s3tables:ListTables" in out.stderr, out.stderr
