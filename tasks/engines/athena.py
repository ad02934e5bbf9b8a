"""`engine=athena`: the statement runs in the env's Athena workgroup (the stack's, templates/athena.yaml.j2),
over the table bucket's catalog `s3tablescatalog/BUCKET` with the env's namespace as the database, so the
tables answer to the same names as DuckDB's views. Athena reads the data where it is and bills the bytes it
scans (lake/athena_cost.py); only the result rows come to this machine.

Calls: `open` is one ListTables (the env's tables, as DuckDB finds them) and one GetWorkGroup (it exists, is
enabled, and its scan limit); each statement is one StartQueryExecution, GetQueryExecution until the query
ends (tasks/polling.py's one poll: growing delays, no fixed sleep) and GetQueryResults a page of up to 1,000
rows at a time, until `limit` rows (and one more, to know whether it cut) or the last page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from lake.athena_cost import Scan, megabytes
from tasks.engines import sql
from tasks.engines.athena_values import reader, row_values
from tasks.engines.base import Engine, QueryError, Result, Statement, utc
from tasks.errors import EXIT_AWS, Failed, NotDeployed, StepFailed, error_code

if TYPE_CHECKING:
    from tasks.aws import Clients

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
PAGE = 1000  # GetQueryResults' MaxResults ceiling (athena model)
# How long a statement may run before it is stopped: Athena's own DML query timeout (its default quota).
QUERY_DEADLINE_S = 30 * 60
USER_ERROR = 2  # AthenaError.ErrorCategory: 1 system, 2 user, 3 other
PERMISSION_ERROR = 1500  # AthenaError.ErrorType: "Permission error" (Athena's error catalog)


class AthenaEngine(Engine):
    name: ClassVar[str] = "athena"
    cutoff: int | None = None  # the workgroup's BytesScannedCutoffPerQuery
    scans: list[Scan]

    def open(self, clients: Clients, names: Sequence[str] | None = None) -> list[str]:
        from tasks.query import env_tables, list_tables, not_deployed

        self.client = clients.client("athena")
        self.scans = []
        listed = list_tables(clients, self.config)
        wanted = list(names) if names is not None else env_tables(self.config, listed)
        for table in wanted:
            if table not in (listed or ()):
                raise not_deployed(self.config, table)
        self.cutoff = self._workgroup()
        self.tables = wanted
        return wanted

    def _workgroup(self) -> int | None:
        """The workgroup's scan limit; a missing or disabled workgroup is an env not (yet) deployed."""
        name = self.config.athena_workgroup
        try:
            group = self.client.get_work_group(WorkGroup=name)["WorkGroup"]
        except ClientError as exc:
            if error_code(exc) != "InvalidRequestException":  # Athena's answer for a missing workgroup
                raise
            raise NotDeployed(
                f"error: env {self.config.env} has no Athena workgroup {name}: run "
                f"`doit deploy env={self.config.env}` (the stack adds it)"
            ) from None
        if group.get("State") != "ENABLED":
            raise NotDeployed(
                f"error: Athena workgroup {name} is {group.get('State')}: "
                f"`doit deploy env={self.config.env}` enables it"
            )
        cutoff = (group.get("Configuration") or {}).get("BytesScannedCutoffPerQuery")
        return int(cutoff) if cutoff is not None else None

    def run(self, stmt: Statement, limit: int) -> Result:
        qid = self.client.start_query_execution(
            QueryString=stmt.sql,
            QueryExecutionContext={"Catalog": self.config.athena_catalog, "Database": self.config.namespace},
            WorkGroup=self.config.athena_workgroup,
        )["QueryExecutionId"]
        try:
            execution = self._wait(qid)
        except KeyboardInterrupt:
            self._stop(qid)  # a query left running keeps scanning, and billing
            raise
        status = execution["Status"]
        scanned = int((execution.get("Statistics") or {}).get("DataScannedInBytes") or 0)
        scan = Scan(qid, status["State"], scanned, self.cutoff)
        self.scans.append(scan)
        if scan.state == "FAILED":
            raise self._failure(status, scan)
        if scan.state == "CANCELLED":
            raise self._cancelled(scan)
        columns, types, rows, truncated = self._results(qid, limit, execution.get("StatementType") == "DML")
        return Result(columns, types, rows, truncated, limit, stmt.explain, scan)

    def _wait(self, qid: str) -> dict[str, Any]:
        from tasks.polling import backoff_delays, poll

        def read() -> dict[str, Any]:
            found: dict[str, Any] = self.client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            return found

        def timed_out(execution: dict[str, Any]) -> Exception:
            self._stop(qid)
            return StepFailed(
                f"error: query {qid} was still {execution['Status']['State']} after "
                f"{QUERY_DEADLINE_S // 60} minutes: it was stopped"
            )

        return poll(
            read,
            lambda e: e["Status"]["State"] in TERMINAL,
            backoff_delays(QUERY_DEADLINE_S, first=0.1, cap=2.0),
            timed_out,
            read_now=False,
        )

    def _stop(self, qid: str) -> None:
        self.client.stop_query_execution(QueryExecutionId=qid)

    def _failure(self, status: dict[str, Any], scan: Scan) -> Exception:
        reason = str(status.get("StateChangeReason") or "no reason given").splitlines()[0]
        error = status.get("AthenaError") or {}
        if error.get("ErrorCategory") != USER_ERROR:
            return Failed(f"error: Athena failed query {scan.query_id}: {reason}", EXIT_AWS)
        hint = ""
        if error.get("ErrorType") == PERMISSION_ERROR:
            hint = (
                f" (Lake Formation: the caller needs DESCRIBE on database {self.config.namespace} and SELECT "
                f"on the tables, in catalog ACCOUNT:{self.config.athena_catalog}: docs/query.md, "
                "'Read access')"
            )
        return QueryError(f"error: query failed: {reason}{hint}")

    def _cancelled(self, scan: Scan) -> Exception:
        cost = f"{megabytes(scan.scanned_bytes)} scanned, ${scan.cost_usd:.6f}"
        if scan.cut_off:
            return StepFailed(
                f"error: Athena cancelled query {scan.query_id} at the workgroup's scan limit "
                f"(athena.bytes_scanned_cutoff_mb={(scan.cutoff_bytes or 0) // 10**6}; {cost}): filter on "
                f'"timestamp" to read fewer days, or raise the limit and deploy'
            )
        return StepFailed(f"error: query {scan.query_id} was cancelled ({cost})")

    def _results(
        self, qid: str, limit: int, header: bool
    ) -> tuple[list[str], list[str], list[tuple[Any, ...]], bool]:
        """The rows, a page at a time, until `limit` + 1 (to know whether it cut) or the last page; a
        query's first row is its header (as Athena gives it), an EXPLAIN's is not."""
        kwargs: dict[str, Any] = {"QueryExecutionId": qid}
        rows: list[tuple[Any, ...]] = []
        columns: list[str] = []
        types: list[str] = []
        skip = 1 if header else 0
        while True:
            wanted = PAGE if limit == 0 else limit + 1 - len(rows) + skip
            page = self.client.get_query_results(**kwargs, MaxResults=max(1, min(PAGE, wanted)))
            result = page["ResultSet"]
            if not columns:
                info = result["ResultSetMetadata"]["ColumnInfo"]
                columns, types = [c["Name"] for c in info], [c["Type"] for c in info]
                readers = [reader(t) for t in types]
            data = result.get("Rows", [])[skip:]
            skip = 0
            rows += [row_values(r.get("Data", []), readers) for r in data]
            if not page.get("NextToken") or (limit and len(rows) > limit):
                break
            kwargs["NextToken"] = page["NextToken"]
        truncated = limit > 0 and len(rows) > limit
        return columns, types, rows[:limit] if truncated else rows, truncated

    def newest(self, table: str) -> dt.datetime | None:
        res = self.run(Statement(sql.newest_sql(table)), 1)
        return utc(res.rows[0][0] if res.rows else None)

    def describe(self) -> str:
        return (
            f"Athena in {self.config.region} (workgroup {self.config.athena_workgroup}, catalog "
            f"{self.config.athena_catalog}, database {self.config.namespace}), billed per byte scanned"
        )
