"""`doit query env=ENV sql="..." [engine=duckdb|athena]`: SQL over the env's tables (a shell without sql=).

Only reads. Input is checked before any AWS call, the same for every engine: the engine, the format, the
limit, and the SQL itself (parsed by DuckDB: one SELECT, naming only the env's tables). Athena's queries
print what they scanned and what that costs.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from tasks.cli import args
from tasks.config import Config
from tasks.engines.base import Engine, Result
from tasks.errors import UserError, cli_action, emit, eprint


def _show(res: Result, fmt: str) -> None:
    """The result on stdout; Athena's scan line under a text table, on stderr beside a json/csv document
    (stdout stays the document alone; format=json carries the same figures in its `scan` member)."""
    from lake.athena_cost import line
    from tasks.query_format import render

    emit(render(res, fmt))
    if res.scan is not None:
        (emit if fmt == "text" else eprint)(line(res.scan))


def _shell(engine: Engine, config: Config, fmt: str, limit: int) -> None:
    """A line-at-a-time prompt (the duckdb 1.5.5 wheel ships no shell of its own)."""
    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401  (line editing and history for input())
    emit(
        f"{engine.describe()}, env {config.env}: tables {', '.join(engine.tables)}. "
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
            emit(" ".join(engine.tables))
            continue
        try:
            _show(engine.run(engine.check(line, engine.tables), limit), fmt)
        except UserError as exc:
            eprint(str(exc))


@cli_action
def _query() -> None:
    from tasks import engines
    from tasks.aws import Clients
    from tasks.query_format import FORMATS

    config = args.config()
    engine = engines.create(args.engine(engines.names()), config)
    fmt = args.output_format(FORMATS)
    limit = args.limit()
    raw = args.sql()
    stmt = None
    if raw is not None:
        stmt = engine.check(raw)
    elif not sys.stdin.isatty():
        raise UserError('error: sql is missing: give sql="select ..." (the shell needs a terminal)')
    with engine:
        tables = engine.open(Clients(config))
        if stmt is None:
            _shell(engine, config, fmt, limit)
            return
        engine.check(stmt.sql, tables)  # a signal name given: is it one of the env's tables?
        _show(engine.run(stmt, limit), fmt)


def task_query() -> dict[str, Any]:
    """Read-only SQL on the env's tables: doit query env=ENV sql="..." [engine=] [format=] [limit=]."""
    return {
        "doc": 'Run read-only SQL on the env\'s tables (sql="..." engine=duckdb|athena format=text|json|csv '
        "limit=N)",
        "actions": [_query],
        "uptodate": [False],
        "verbosity": 2,
    }
