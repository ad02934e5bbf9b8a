"""`engine=duckdb` (the default): an in-process DuckDB on this machine, one view per table over
`iceberg_scan` of its current metadata file (tasks/query.py). Every byte a query reads comes over the
network to this machine; nothing is billed per query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from tasks.engines import sql
from tasks.engines.base import Engine, Result, Statement, utc

if TYPE_CHECKING:
    import duckdb

    from tasks.aws import Clients
    from tasks.query import TableRef


class DuckDBEngine(Engine):
    name: ClassVar[str] = "duckdb"
    conn: duckdb.DuckDBPyConnection | None = None
    refs: list[TableRef]

    def open(self, clients: Clients, names: Sequence[str] | None = None) -> list[str]:
        from tasks.query import open_env

        self.conn, self.refs = open_env(clients, self.config, names, lake_formation=True)
        self.tables = [r.signal for r in self.refs]
        return self.tables

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.conn is None:
            raise RuntimeError("the engine is not open: call open() first")
        return self.conn

    def run(self, stmt: Statement, limit: int) -> Result:
        from tasks.query import run

        return run(self._connection(), stmt, limit)

    def newest(self, table: str) -> dt.datetime | None:
        row = self._connection().execute(sql.newest_sql(table)).fetchone()
        return utc(row[0] if row else None)

    def describe(self) -> str:
        import duckdb

        return f"DuckDB {duckdb.__version__} on this machine"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
