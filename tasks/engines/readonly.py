"""The one read-only check every engine makes before any AWS call, with DuckDB's own parser and binder.

A statement must be exactly one SELECT (or an EXPLAIN of one) naming only the env's tables. An engine adds
nothing to it: a statement that writes never reaches DuckDB's views nor Athena.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lake.duckdb_extensions import CONNECT_CONFIG
from lake.signals import ALL_SIGNALS
from tasks.errors import UserError

if TYPE_CHECKING:  # duckdb loads lazily: the other commands never need it
    import duckdb

    from tasks.config import Config


@dataclass(frozen=True)
class Statement:
    """One checked statement: its text as given (without a trailing `;`), and whether it is an EXPLAIN."""

    sql: str
    explain: bool = False


_EXPLAIN = re.compile(r"^\s*explain\s+(analy[sz]e\s+)?(\([^)]*\)\s*)?", re.IGNORECASE)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_sql(sql: str) -> duckdb.Statement:
    """The one statement to run, parsed by DuckDB: a SELECT or an EXPLAIN of one; anything else is refused.

    Parsed on a connection of its own, closed here, not by duckdb's module-level functions: those use a
    default connection that lives until the interpreter exits (see cli_action on tearing DuckDB down late).
    """
    import duckdb

    parser = duckdb.connect(":memory:", config={**CONNECT_CONFIG, "enable_external_access": "false"})
    try:
        return _statement(parser, sql)
    finally:
        parser.close()


def _statement(parser: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
    import duckdb

    if not sql.strip():
        raise UserError("error: sql='' is empty: give a query, e.g. sql=\"select count(*) from logs\"")
    try:
        statements = parser.extract_statements(sql)
    except duckdb.Error as exc:
        raise UserError(f"error: sql is not valid SQL: {first_line(exc)}") from None
    if not statements:
        raise UserError('error: sql holds no statement: give a query, e.g. sql="select count(*) from logs"')
    if len(statements) > 1:
        raise UserError(f"error: sql holds {len(statements)} statements: doit query runs exactly one")
    stmt = statements[0]
    kind = stmt.type
    if kind == duckdb.StatementType.EXPLAIN:
        try:
            inner = parser.extract_statements(_EXPLAIN.sub("", stmt.query, count=1))
        except duckdb.Error:
            inner = []  # an EXPLAIN whose statement cannot be shown to be a SELECT is refused
        if len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT:
            return stmt
        kind = inner[0].type if inner else kind
    elif kind == duckdb.StatementType.SELECT:
        return stmt
    article = "an" if kind.name[0] in "AEIOU" else "a"
    raise UserError(
        f"error: sql is {article} {kind.name} statement: doit query is read-only and runs only SELECT "
        "(or EXPLAIN of a SELECT)"
    )


def check_tables(sql: str, config: Config, tables: Sequence[str] | None = None) -> None:
    """A table name that is not one of the env's views is refused: before any AWS call (`tables` None) a
    name that is no signal at all; once the env's tables are known (`tables`: its signals and kept tables),
    any other name.

    The names come from DuckDB's own binder, on an empty connection that can reach no file.
    """
    import duckdb

    probe = duckdb.connect(":memory:", config={**CONNECT_CONFIG, "enable_external_access": "false"})
    try:
        bare = probe.get_table_names(sql, qualified=False)
        qualified = probe.get_table_names(sql, qualified=True)
    except duckdb.Error:
        return  # running the query names the problem
    finally:
        probe.close()
    have = ", ".join(tables if tables is not None else config.signals)
    for name in sorted(bare):
        unqualified = name in qualified or any(q.startswith(f"{name} AS ") for q in qualified)
        if not unqualified or name in (tables if tables is not None else ALL_SIGNALS):
            continue
        if name in ALL_SIGNALS:
            raise UserError(
                f"error: table {name!r} is not a signal of env {config.env}, and no table of that name is "
                f"kept: its tables are {have}"
            )
        raise UserError(f"error: no table {name!r} in env {config.env}: its tables are {have}")


def check(sql: str, config: Config, tables: Sequence[str] | None = None) -> Statement:
    """The one read-only check, the same for every engine and before any AWS call: one SELECT (or EXPLAIN
    of one) naming only the env's tables (`tables`, once known), as its text without a trailing `;`."""
    import duckdb

    parsed = check_sql(sql)
    check_tables(parsed.query, config, tables)
    text = parsed.query.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    return Statement(text, parsed.type == duckdb.StatementType.EXPLAIN)
