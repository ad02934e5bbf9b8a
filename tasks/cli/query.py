"""`doit query env=ENV sql="..."`: SQL over the env's tables in DuckDB (a shell without sql=).

Only reads. Input is checked before any AWS call: the format, the limit, and the SQL itself (parsed by
DuckDB, one SELECT, names only the env's signals).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from tasks.cli import args
from tasks.config import Config
from tasks.errors import UserError, cli_action, emit, eprint


def _shell(conn: Any, config: Config, tables: list[str], fmt: str, limit: int) -> None:
    """A line-at-a-time prompt (the duckdb 1.5.5 wheel ships no shell of its own)."""
    import duckdb

    from tasks.query import check_sql, check_tables, run
    from tasks.query_format import render

    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401  (line editing and history for input())
    emit(
        f"DuckDB {duckdb.__version__} on env {config.env}: tables {', '.join(tables)}. "
        "One statement per line; .tables lists them, .quit (or Ctrl-D) leaves."
    )
    while True:
        try:
            line = input(f"{config.env}> ").strip()
        except EOFError:
            emit("")
            return
        except KeyboardInterrupt:
            emit("")
            continue
        if not line:
            continue
        if line in (".quit", ".exit", "\\q"):
            return
        if line == ".tables":
            emit(" ".join(tables))
            continue
        try:
            stmt = check_sql(line)
            check_tables(stmt.query, config, tables)
            emit(render(run(conn, stmt, limit), fmt))
        except UserError as exc:
            eprint(str(exc))


@cli_action
def _query() -> None:
    from tasks.aws import Clients
    from tasks.query import check_sql, check_tables, open_env, run
    from tasks.query_format import FORMATS, render

    config = args.config()
    fmt = args.output_format(FORMATS)
    limit = args.limit()
    raw = args.sql()
    stmt = None
    if raw is not None:
        stmt = check_sql(raw)
        check_tables(stmt.query, config)
    elif not sys.stdin.isatty():
        raise UserError('error: sql is missing: give sql="select ..." (the shell needs a terminal)')
    conn, refs = open_env(Clients(config), config)
    tables = [r.signal for r in refs]
    try:
        if stmt is not None:
            check_tables(stmt.query, config, tables)  # a signal name given: is it one of the env's tables?
        if stmt is None:
            _shell(conn, config, tables, fmt, limit)
        else:
            emit(render(run(conn, stmt, limit), fmt))
    finally:
        conn.close()


def task_query() -> dict[str, Any]:
    """SQL over the env's Iceberg tables in DuckDB: doit query env=ENV sql="..." [format=] [limit=]."""
    return {
        "doc": 'Run read-only SQL on the env\'s tables in DuckDB (sql="..." format=text|json|csv limit=N)',
        "actions": [_query],
        "uptodate": [False],
        "verbosity": 2,
    }
