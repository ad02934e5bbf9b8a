"""doit tasks: `doit query` (SQL over the env's tables in DuckDB) and `doit tables` (what each table holds).

Both only read. Input is checked before any AWS call: the format, the limit, and the SQL itself (parsed by
DuckDB, one SELECT, names only the env's signals).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from typing import Any

from doit import get_var

from tasks.config import Config, from_doit_vars
from tasks.errors import UserError, cli_action, emit, eprint

DEFAULT_LIMIT = 100


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = str(get_var(name, allowed[0]) or allowed[0])
    if value not in allowed:
        raise UserError(f"error: {name}={value!r} is invalid: must be one of {', '.join(allowed)}")
    return value


def _limit() -> int:
    raw = str(get_var("limit", str(DEFAULT_LIMIT)) or DEFAULT_LIMIT)
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if limit < 0:
        raise UserError(f"error: limit={raw!r} is invalid: must be an integer >= 0 (0 shows every row)")
    return limit


def _shell(conn: Any, config: Config, fmt: str, limit: int) -> None:
    """A line-at-a-time prompt (the duckdb 1.5.5 wheel ships no shell of its own)."""
    import duckdb

    from tasks.query import check_sql, check_tables, run
    from tasks.query_format import render

    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401  (line editing and history for input())
    emit(
        f"DuckDB {duckdb.__version__} on env {config.env}: tables {', '.join(config.signals)}. "
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
            emit(" ".join(config.signals))
            continue
        try:
            stmt = check_sql(line)
            check_tables(stmt.query, config)
            emit(render(run(conn, stmt, limit), fmt))
        except UserError as exc:
            eprint(str(exc))


@cli_action
def _query() -> None:
    from tasks.aws import Clients
    from tasks.query import check_sql, check_tables, open_env, run
    from tasks.query_format import FORMATS, render

    config = from_doit_vars()
    fmt = _choice("format", FORMATS)
    limit = _limit()
    raw = get_var("sql", None)
    stmt = None
    if raw is not None:
        stmt = check_sql(str(raw))
        check_tables(stmt.query, config)
    elif not sys.stdin.isatty():
        raise UserError('error: sql is missing: give sql="select ..." (the shell needs a terminal)')
    conn, _ = open_env(Clients(config), config)
    try:
        if stmt is None:
            _shell(conn, config, fmt, limit)
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


@cli_action
def _tables() -> None:
    from tasks.aws import Clients
    from tasks.table_facts import collect, facts_dict, tables_text

    config = from_doit_vars()
    fmt = _choice("format", ("text", "json"))
    facts = collect(Clients(config), config)
    now = dt.datetime.now(dt.UTC)
    if fmt == "json":
        emit(json.dumps({"env": config.env, "tables": [facts_dict(f, now) for f in facts]}, indent=2))
    else:
        emit(tables_text(config.env, facts, now))


def task_tables() -> dict[str, Any]:
    """Rows, files, size, snapshots, last commit, partitioning and freshness of each table."""
    return {
        "doc": "Show each table of env=ENV: rows, files, size, snapshots, last commit, partition, freshness",
        "actions": [_tables],
        "uptodate": [False],
        "verbosity": 2,
    }
