"""Athena query executions on the local AWS through boto3: states and statistics, results as Athena gives
and writes them, paging, and what Athena refuses (read-only, Trino's dialect, bad input)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.athena.conftest import (
    CATALOG,
    CONTEXT,
    NAMESPACE,
    OUTPUT,
    RESULTS,
    append,
    finished,
    log_row,
    run,
    start,
    values,
)
from tests.emulator.helpers import error_code
from tests.waiting import wait_for


def test_a_select_succeeds_with_statistics_and_athena_results(lake):
    ath = lake["athena"]
    qe = run(
        ath,
        "SELECT service_name, count(*) AS n, max(timestamp) AS last, avg(severity_number) AS sev "
        "FROM logs GROUP BY service_name ORDER BY service_name",
    )
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    assert qe["StatementType"] == "DML" and qe["WorkGroup"] == "primary"
    assert qe["QueryExecutionContext"] == CONTEXT
    assert qe["ResultConfiguration"]["OutputLocation"] == f"{OUTPUT}{qe['QueryExecutionId']}.csv"
    stats = qe["Statistics"]
    assert stats["DataScannedInBytes"] > 0
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    assert qe["Status"]["CompletionDateTime"] >= qe["Status"]["SubmissionDateTime"]
    result = ath.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
    info = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [
        ("service_name", "varchar"),
        ("n", "bigint"),
        ("last", "timestamp"),
        ("sev", "double"),
    ]
    rows = values(ath, qe["QueryExecutionId"])
    assert rows[0] == ["service_name", "n", "last", "sev"]  # the header row first, as Athena gives it
    assert rows[1:] == [
        ["cart", "3", "2026-01-02 03:04:09.678901", "11.0"],
        ["checkout", "2", "2026-01-02 03:04:08.678901", "11.0"],
    ]


def test_a_table_of_many_data_files_is_scanned_and_counted_in_full(lake):
    """DuckDB's profile names only the first few files a scan read, then "...": the bytes of a table of a
    dozen files are counted from those named, for every file read."""
    ath = lake["athena"]
    one = run(ath, "SELECT count(body) AS n FROM logs")
    assert one["Status"]["State"] == "SUCCEEDED", one["Status"]
    for i in range(11):  # one commit, one data file each
        append(lake["arn"], [log_row(100 + 5 * i + j) for j in range(5)])
    many = run(ath, "SELECT count(body) AS n FROM logs")
    assert many["Status"]["State"] == "SUCCEEDED", many["Status"]
    scanned = (one["Statistics"]["DataScannedInBytes"], many["Statistics"]["DataScannedInBytes"])
    assert scanned[1] >= 10 * scanned[0] > 0


def test_the_result_files_are_athenas_csv_and_its_metadata(lake):
    ath, s3 = lake["athena"], lake["emu"].client("s3")
    qe = run(ath, "SELECT observed_timestamp, body FROM logs ORDER BY observed_timestamp LIMIT 3")
    qid = qe["QueryExecutionId"]
    csv = s3.get_object(Bucket=RESULTS, Key=f"athena/{qid}.csv")["Body"].read().decode()
    # Every field quoted, quotes doubled, NULL an empty field.
    assert csv.splitlines() == [
        '"observed_timestamp","body"',
        '"1000000",',
        '"1000001","line ""1"", done"',
        '"1000002","line ""2"", done"',
    ]
    assert csv.endswith("\n")
    assert s3.get_object(Bucket=RESULTS, Key=f"athena/{qid}.csv.metadata")["Body"].read()
    rows = ath.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert rows[1]["Data"] == [{"VarCharValue": "1000000"}, {}]  # NULL has no VarCharValue
    s3.delete_object(Bucket=RESULTS, Key=f"athena/{qid}.csv")
    with pytest.raises(ClientError) as exc:
        ath.get_query_results(QueryExecutionId=qid)
    assert error_code(exc) == "InvalidRequestException"  # read back from S3: gone means gone


def test_results_page_with_next_token_and_the_models_limits(lake):
    ath = lake["athena"]
    append(lake["arn"], [log_row(i) for i in range(5, 12)])
    qid = run(ath, "SELECT observed_timestamp FROM logs ORDER BY 1")["QueryExecutionId"]
    seen, token, pages = [], None, 0
    while True:
        kw: dict[str, str] = {"NextToken": token} if token else {}
        page = ath.get_query_results(QueryExecutionId=qid, MaxResults=5, **kw)
        seen += [r["Data"][0]["VarCharValue"] for r in page["ResultSet"]["Rows"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and seen == ["observed_timestamp"] + [str(1_000_000 + i) for i in range(12)]
    raw = lake["emu"].client("athena", parameter_validation=False)
    for bad in (0, 1001):
        with pytest.raises(ClientError) as exc:
            raw.get_query_results(QueryExecutionId=qid, MaxResults=bad)
        assert error_code(exc) == "InvalidRequestException"
        assert "maxResults" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        ath.get_query_results(QueryExecutionId=qid, NextToken="not-a-token")
    assert error_code(exc) == "InvalidRequestException"


def test_fully_qualified_names_and_two_part_names_resolve_as_in_athena(lake):
    ath = lake["athena"]
    for sql in (
        f'SELECT count(*) FROM "{CATALOG}"."{NAMESPACE}"."logs"',
        f"SELECT count(*) FROM {NAMESPACE}.logs",
        "WITH l AS (SELECT * FROM logs) SELECT count(*) FROM l",
    ):
        qe = run(ath, sql, QueryExecutionContext={"Catalog": CATALOG, "Database": NAMESPACE})
        assert qe["Status"]["State"] == "SUCCEEDED", (sql, qe["Status"])
        assert values(ath, qe["QueryExecutionId"])[1] == ["5"]
    qe = run(ath, "SELECT count(*) FROM logs", QueryExecutionContext={})  # AwsDataCatalog.default
    assert qe["Status"]["State"] == "FAILED"
    assert qe["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND: line 1:22: Table ")
    qe = run(ath, "SELECT count(*) FROM otel.nope")
    assert qe["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND")
    assert qe["Status"]["AthenaError"]["ErrorCategory"] == 2


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("INSERT INTO logs (service_name) VALUES ('x')", "NOT_SUPPORTED"),
        ("DELETE FROM logs", "NOT_SUPPORTED"),
        ("DROP TABLE logs", "NOT_SUPPORTED"),
        ("CREATE TABLE x AS SELECT * FROM logs", "NOT_SUPPORTED"),
    ],
)
def test_a_writing_statement_fails_the_query_and_changes_nothing(lake, sql, reason):
    ath = lake["athena"]
    qe = run(ath, sql)
    assert qe["Status"]["State"] == "FAILED"
    assert qe["Status"]["StateChangeReason"].startswith(f"{reason}: ")
    assert qe["Status"]["AthenaError"]["ErrorType"] == 1200  # "Query not supported"
    assert values(ath, run(ath, "SELECT count(*) FROM logs")["QueryExecutionId"])[1] == ["5"]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT count(*) FROM logs WHERE timestamp > now() - interval 1 hour", "SYNTAX_ERROR: line 1:62"),
        ("SELECT time_bucket(interval '1' minute, timestamp) FROM logs", "FUNCTION_NOT_FOUND: line 1:8"),
        ("SELECT strftime(timestamp, '%Y') FROM logs", "FUNCTION_NOT_FOUND"),
        ("SELECT severity_number::varchar FROM logs", "SYNTAX_ERROR"),
        ("SELECT * FROM logs LIMIT 1 OFFSET 1", "SYNTAX_ERROR"),
        ("SELECT 1; SELECT 2", "SYNTAX_ERROR: Only one sql statement is allowed"),
        ("SELEC 1", "SYNTAX_ERROR"),
        ("SELECT nope FROM logs", "GENERIC_USER_ERROR"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "FUNCTION_NOT_FOUND"),
    ],
)
def test_what_trino_refuses_fails_the_query(lake, sql, reason):
    qe = run(lake["athena"], sql)
    assert qe["Status"]["State"] == "FAILED", qe["Status"]
    assert qe["Status"]["StateChangeReason"].startswith(reason), qe["Status"]["StateChangeReason"]
    assert qe["Status"]["AthenaError"]["ErrorCategory"] == 2


def test_trinos_spelling_of_the_same_query_succeeds(lake):
    ath = lake["athena"]
    qe = run(
        ath,
        "SELECT date_trunc('minute', timestamp) AS m, count(*) FROM logs "
        "WHERE timestamp > timestamp '2026-01-01 00:00:00' - interval '1' hour GROUP BY 1 "
        "ORDER BY 1 OFFSET 0 LIMIT 10",
    )
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    assert values(ath, qe["QueryExecutionId"])[1:] == [["2026-01-02 03:04:00.000000", "5"]]


def test_explain_is_a_utility_statement_without_a_header(lake):
    ath = lake["athena"]
    qe = run(ath, "EXPLAIN SELECT count(*) FROM logs")
    assert qe["Status"]["State"] == "SUCCEEDED" and qe["StatementType"] == "UTILITY"
    result = ath.get_query_results(QueryExecutionId=qe["QueryExecutionId"])["ResultSet"]
    assert [c["Name"] for c in result["ResultSetMetadata"]["ColumnInfo"]] == ["Query Plan"]
    assert result["Rows"] and result["Rows"][0]["Data"][0]["VarCharValue"] != "Query Plan"


def test_queued_then_running_then_stopped(lake):
    emu, ath = lake["emu"], lake["athena"]
    emu.set_faults({"latency": {"athena_queued_seconds": 120}})
    qid = start(ath, "SELECT count(*) FROM logs")
    assert ath.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] == "QUEUED"
    with pytest.raises(ClientError) as exc:
        ath.get_query_results(QueryExecutionId=qid)
    assert error_code(exc) == "InvalidRequestException"
    assert "Current state: QUEUED" in exc.value.response["Error"]["Message"]
    emu.set_faults({"latency": {"athena_running_seconds": 120}})  # QUEUED ends, RUNNING is held

    def state() -> str:
        s = ath.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
        return s if s == "RUNNING" else ""

    wait_for(state, what="RUNNING")
    ath.stop_query_execution(QueryExecutionId=qid)
    qe = finished(ath, qid)
    assert qe["Status"]["State"] == "CANCELLED"
    ath.stop_query_execution(QueryExecutionId=qid)  # stopping a finished query changes nothing
    assert finished(ath, qid)["Status"]["State"] == "CANCELLED"
    with pytest.raises(ClientError) as exc:
        ath.get_query_results(QueryExecutionId=qid)
    assert error_code(exc) == "InvalidRequestException"
    emu.clear_faults()


def test_requests_athena_refuses_before_running(lake, emulator):
    ath = lake["athena"]
    with pytest.raises(ClientError) as exc:
        ath.start_query_execution(QueryString="SELECT 1")  # primary has no result location
    assert error_code(exc) == "InvalidRequestException"
    assert "No output location provided" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        start(ath, "SELECT 1", ResultConfiguration={"OutputLocation": "s3://no-such-bucket/x/"})
    assert exc.value.response["Error"]["Message"] == "Unable to verify/create output bucket no-such-bucket"
    with pytest.raises(ClientError) as exc:
        ath.get_query_execution(QueryExecutionId="0e8a2f5e-0000-4000-8000-000000000000")
    assert error_code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        start(ath, "SELECT 1", WorkGroup="nope", ResultConfiguration={"OutputLocation": OUTPUT})
    assert exc.value.response["Error"]["Message"] == "WorkGroup nope is not found."
    raw = emulator.client("athena", parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        raw.start_query_execution(QueryString="", ResultConfiguration={"OutputLocation": OUTPUT})
    assert error_code(exc) == "InvalidRequestException"
    assert "queryString" in exc.value.response["Error"]["Message"]


def test_list_and_batch_get_and_the_client_request_token(lake):
    ath = lake["athena"]
    token = "a" * 40
    first = start(ath, "SELECT 1", ClientRequestToken=token)
    assert start(ath, "SELECT 1", ClientRequestToken=token) == first  # idempotent
    with pytest.raises(ClientError):
        start(ath, "SELECT 2", ClientRequestToken=token)
    second = start(ath, "SELECT 2")
    finished(ath, first), finished(ath, second)
    assert ath.list_query_executions()["QueryExecutionIds"] == [second, first]
    got = ath.batch_get_query_execution(QueryExecutionIds=[first, "missing-id"])
    assert [q["QueryExecutionId"] for q in got["QueryExecutions"]] == [first]
    assert got["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "missing-id"


def test_execution_parameters_fill_the_placeholders(lake):
    ath = lake["athena"]
    qe = run(ath, "SELECT count(*) FROM logs WHERE service_name = ?", ExecutionParameters=["'cart'"])
    assert qe["ExecutionParameters"] == ["'cart'"]
    assert values(ath, qe["QueryExecutionId"])[1] == ["3"]
