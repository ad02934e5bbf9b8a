"""The Athena tests' lake: the federated catalog, table bucket ``lake`` with namespace ``otel`` and a
``logs`` table (the signal's schema) holding a few rows, a results bucket, and the caller's grants."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from emulator.iceberg.store import get_store
from tests.emulator import helpers as eh
from tests.waiting import wait_for

BUCKET = "lake"
NAMESPACE = "otel"
CATALOG = f"s3tablescatalog/{BUCKET}"
RESULTS = "query-results"
OUTPUT = f"s3://{RESULTS}/athena/"
CONTEXT = {"Catalog": CATALOG, "Database": NAMESPACE}
DEFAULT_USER = "arn:aws:iam::123456789012:user/moto"
T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)


def log_row(i: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "timestamp": T0 + datetime.timedelta(seconds=i),
        "observed_timestamp": 1_000_000 + i,
        "service_name": "checkout" if i % 2 else "cart",
        "severity_number": 9 + i % 9,
        "severity_text": "ERROR" if i % 3 == 0 else "INFO",
        "body": f'line "{i}", done' if i else None,
    }
    row.update(over)
    return row


def grant(emu: Any, principal: str, table: str = "logs", database: bool = True) -> None:
    lf = emu.client("lakeformation")
    who = {"DataLakePrincipalIdentifier": principal}
    if database:
        db = {"Database": {"CatalogId": eh.catalog_id(BUCKET), "Name": NAMESPACE}}
        lf.grant_permissions(Principal=who, Permissions=["DESCRIBE"], Resource=db)
    if table:
        resource = {"Table": {"CatalogId": eh.catalog_id(BUCKET), "DatabaseName": NAMESPACE, "Name": table}}
        lf.grant_permissions(Principal=who, Permissions=["SELECT", "DESCRIBE"], Resource=resource)


def append(arn: str, rows: Any, table: str = "logs") -> None:
    """Rows into the Iceberg table, as a Firehose delivery lands them (the store, in-process)."""
    get_store().append(arn, NAMESPACE, table, rows)


@pytest.fixture
def lake(emulator: Any) -> dict[str, Any]:
    """The lake with 5 log rows, the results bucket; the default caller may read ``logs``."""
    eh.create_s3tables_catalog(emulator.client("glue"))
    s3t = emulator.client("s3tables")
    arn = s3t.create_table_bucket(name=BUCKET)["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    eh.create_table(s3t, arn, "logs")
    append(arn, [log_row(i) for i in range(5)])
    emulator.client("s3").create_bucket(Bucket=RESULTS)
    grant(emulator, DEFAULT_USER)
    return {"emu": emulator, "arn": arn, "athena": emulator.client("athena")}


def start(athena: Any, sql: str, **kw: Any) -> str:
    kw.setdefault("QueryExecutionContext", CONTEXT)
    if "WorkGroup" not in kw:
        kw.setdefault("ResultConfiguration", {"OutputLocation": OUTPUT})
    return str(athena.start_query_execution(QueryString=sql, **kw)["QueryExecutionId"])


def finished(athena: Any, qid: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll GetQueryExecution as a client does until the query leaves QUEUED and RUNNING."""

    def done() -> dict[str, Any]:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return dict(qe) if qe["Status"]["State"] not in ("QUEUED", "RUNNING") else {}

    return wait_for(done, timeout=timeout, what=f"query {qid} to finish")


def run(athena: Any, sql: str, **kw: Any) -> dict[str, Any]:
    return finished(athena, start(athena, sql, **kw))


def values(athena: Any, qid: str, **kw: Any) -> list[list[str | None]]:
    rows = athena.get_query_results(QueryExecutionId=qid, **kw)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in r["Data"]] for r in rows]
