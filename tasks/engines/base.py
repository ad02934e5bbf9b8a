"""The interface every query engine keeps: check a statement, open the env's tables, run it, the newest row.

`check` is the one read-only rule, the same for every engine and made before any AWS call: DuckDB's own
parser must find exactly one SELECT (or an EXPLAIN of one) naming only the env's tables
(tasks/engines/readonly.py). An engine adds nothing to it: a statement that writes never reaches Athena.
`open` finds the env's tables (its signals and kept tables) and makes each one a name a query can use;
`run` answers a checked statement with at most `limit` rows (0: all) and says whether it cut the result;
`newest` is `doit tables`' newest-row question (tasks/engines/sql.py) for one table.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.engines.readonly import Statement, check
from tasks.errors import UserError

if TYPE_CHECKING:
    from types import TracebackType

    from lake.athena_cost import Scan
    from tasks.aws import Clients
    from tasks.config import Config


@dataclass
class Result:
    columns: list[str]
    types: list[str]  # the engine's own type names (DuckDB's BIGINT, Trino's bigint)
    rows: list[tuple[Any, ...]]
    truncated: bool
    limit: int
    explain: bool = False
    scan: Scan | None = None  # what a query billed per byte read (Athena), None where nothing is billed


class QueryError(UserError):
    """The engine refused the query (syntax, an unknown column, a type, a permission): one line, exit 2."""


class Engine(ABC):
    """One engine over one env's tables; `with engine:` closes what `open` made."""

    name: ClassVar[str]

    def __init__(self, config: Config) -> None:
        self.config = config
        self.tables: list[str] = []

    def check(self, sql: str, tables: Sequence[str] | None = None) -> Statement:
        """The read-only rule and the table names, before any AWS call (`tables`: the env's, once known)."""
        return check(sql, self.config, tables)

    @abstractmethod
    def open(self, clients: Clients, names: Sequence[str] | None = None) -> list[str]:
        """Find the env's tables (`names`, or its signals and kept tables) and make them queryable."""

    @abstractmethod
    def run(self, stmt: Statement, limit: int) -> Result:
        """At most `limit` rows of the checked statement (0: every row)."""

    @abstractmethod
    def newest(self, table: str) -> dt.datetime | None:
        """The newest `timestamp` of a table, UTC; None when it has no rows."""

    @abstractmethod
    def describe(self) -> str:
        """What the shell's first line says the engine is."""

    def close(self) -> None:  # noqa: B027 (an engine with nothing to close needs no override)
        """Free what `open` made."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def utc(value: Any) -> dt.datetime | None:
    """A newest-row answer as an aware UTC datetime (Iceberg `timestamp` is UTC)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise TypeError(f"the newest timestamp is a {type(value).__name__}, not a datetime")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
