"""One statement, read as Athena engine version 3 (Trino) reads it, before DuckDB runs it.

DuckDB runs the local Athena's queries, and it accepts much that Trino refuses. What Trino would refuse is
refused here first, the query FAILED with Trino's error name, where it is cheap to see:

- more than one statement; anything but a query (SELECT, WITH, set operations, VALUES) or an EXPLAIN of
  one: the local Athena is read-only (``NOT_SUPPORTED``);
- DuckDB-only syntax, from sqlglot's Trino tokenizer: ``x::type`` casts, ``ILIKE``, ``==``, ``//``,
  ``interval 1 hour`` (Trino takes a string and a unit: ``interval '1' hour``), ``interval '1 hour'``,
  ``LIMIT n OFFSET m`` (Trino: ``OFFSET m LIMIT n``), ``GROUP BY ALL``, ``QUALIFY``, ``SELECT * EXCLUDE``
  / ``REPLACE``, ``{...}`` struct and bare ``[...]`` list literals (``SYNTAX_ERROR``);
- a call of a function Trino does not have (trino_functions.py), such as ``time_bucket``, ``strftime``,
  ``epoch_us``, ``list_value`` or ``read_parquet`` (``FUNCTION_NOT_FOUND``).

What both accept but compute differently (integer division, ``now()``'s type) cannot be seen here:
docs/local-aws.md lists it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType as T

from emulator.athena.trino_functions import TRINO_FUNCTIONS

# sqlglot notes each statement it falls back to reading as a Command: refusing it is ours to say.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Athena's ErrorType values (the Athena error catalog) for the failures found here.
SYNTAX = 1006
NOT_SUPPORTED = 1200
USER = 1000

_EXPLAIN = re.compile(r"^\s*explain\s+(analy[sz]e\s+)?(\([^)]*\)\s*)?", re.IGNORECASE)
_UNITS = {"year", "month", "day", "hour", "minute", "second"}


class QueryFailure(Exception):
    """The query fails: Athena's ``StateChangeReason`` and ``AthenaError`` for it."""

    def __init__(self, name: str, message: str, error_type: int, category: int = 2) -> None:
        reason = f"{name}: {message}" if name else message  # some of Athena's reasons have no error name
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type
        self.category = category


@dataclass(frozen=True)
class TableName:
    """A table the statement reads, as written (lower-cased: Athena's names are), and where."""

    parts: tuple[str, ...]
    line: int
    col: int


@dataclass(frozen=True)
class Checked:
    sql: str  # the statement to run (one trailing ';' dropped)
    statement_type: str  # DML (a query) or UTILITY (an EXPLAIN)
    tables: tuple[TableName, ...]


def statement_type(sql: str) -> str:
    """The ``StatementType`` Athena reports, from the first keyword (known before the query runs)."""
    first = (sql.strip().split(None, 1) or [""])[0].upper().rstrip(";")
    if first in ("CREATE", "DROP", "ALTER", "MSCK", "SHOW", "DESCRIBE", "DESC"):
        return "DDL" if first not in ("SHOW", "DESCRIBE", "DESC") else "UTILITY"
    return "UTILITY" if first == "EXPLAIN" else "DML"


def bind(sql: str, parameters: list[str] | None) -> str:
    """``ExecutionParameters`` put in place of the query's ``?`` placeholders, in order, as written (each
    is SQL text: ``'text'``, ``1``); a count that differs fails the query."""
    given = list(parameters or [])
    try:
        tokens = [t for t in Trino().tokenize(sql) if t.token_type == T.PLACEHOLDER and t.text == "?"]
    except TokenError as exc:
        if not given:
            return sql  # check() names the syntax error
        raise QueryFailure("SYNTAX_ERROR", str(exc).splitlines()[0], SYNTAX) from None
    if len(tokens) != len(given):
        raise QueryFailure(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(tokens)} but found {len(given)}",
            USER,
        )
    for token, value in zip(reversed(tokens), reversed(given), strict=True):
        sql = sql[: token.start] + value + sql[token.end + 1 :]
    return sql


def check(sql: str) -> Checked:
    """The one query in ``sql``, or QueryFailure naming what Athena would refuse."""
    text = sql.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    body = text
    explain = _EXPLAIN.match(text)
    if explain:
        body = text[explain.end() :]
    try:
        parsed = [s for s in sqlglot.parse(body, read="trino") if s is not None]
    except TokenError as exc:
        raise QueryFailure("SYNTAX_ERROR", str(exc).splitlines()[0], SYNTAX) from None
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f"line {first.get('line', 1)}:{first.get('col', 1)}: " if first else ""
        raise QueryFailure("SYNTAX_ERROR", f"{where}{first.get('description', str(exc))}", SYNTAX) from None
    if len(parsed) != 1:
        raise QueryFailure("SYNTAX_ERROR", f"Only one sql statement is allowed. Got: {sql}", SYNTAX)
    tree = parsed[0]
    if not isinstance(tree, exp.Query | exp.Values):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise QueryFailure(
            "NOT_SUPPORTED",
            f"the local AWS's Athena is read-only: it runs a query (SELECT, WITH, VALUES) or an EXPLAIN "
            f"of one, and this is {kind}",
            NOT_SUPPORTED,
        )
    offset = len(text) - len(body)
    _check_tokens(sql, body, offset, _cte_names(parsed[0]))
    return Checked(text, "UTILITY" if explain else "DML", _tables(parsed[0], sql, offset))


def _cte_names(tree: Any) -> set[str]:
    return {str(c.alias).lower() for c in tree.find_all(exp.CTE)}


def _position(sql: str, start: int) -> tuple[int, int]:
    line = sql.count("\n", 0, start) + 1
    return line, start - (sql.rfind("\n", 0, start) + 1) + 1


def _tables(tree: Any, sql: str, offset: int) -> tuple[TableName, ...]:
    ctes = _cte_names(tree)
    lead = len(sql) - len(sql.lstrip())
    out: list[TableName] = []
    for table in tree.find_all(exp.Table):
        parts = tuple(str(p.name).lower() for p in table.parts)
        if not parts or not table.name or (len(parts) == 1 and parts[0] in ctes):
            continue
        start = int((table.parts[0].meta or {}).get("start", 0)) + offset + lead
        line, col = _position(sql, start)
        out.append(TableName(parts, line, col))
    return tuple(out)


def _refuse(sql: str, start: int, what: str) -> QueryFailure:
    line, col = _position(sql, start)
    return QueryFailure("SYNTAX_ERROR", f"line {line}:{col}: mismatched input '{what}'", SYNTAX)


def _check_tokens(sql: str, body: str, offset: int, ctes: set[str]) -> None:
    tokens = Trino().tokenize(body)
    base = len(sql) - len(sql.lstrip()) + offset
    depth_limit: dict[int, bool] = {}
    depth = 0
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = tokens[i - 1] if i > 0 else None
        start = base + tok.start
        kind, text = tok.token_type, tok.text
        if kind in (T.L_PAREN, T.L_BRACKET):
            depth += 1
        elif kind in (T.R_PAREN, T.R_BRACKET):
            depth_limit.pop(depth, None)
            depth -= 1
        if kind in (T.DCOLON, T.ILIKE, T.QUALIFY, T.L_BRACE) or text in ("==", "//"):
            raise _refuse(sql, start, text)
        if kind == T.L_BRACKET and (prev is None or prev.token_type not in _SUBSCRIPTED):
            raise _refuse(sql, start, text)
        if kind == T.INTERVAL and nxt is not None:
            unit = tokens[i + 2].text.lower() if i + 2 < len(tokens) else ""
            if nxt.token_type != T.STRING:
                raise _refuse(sql, base + nxt.start, nxt.text)
            if unit not in _UNITS:
                raise _refuse(sql, base + nxt.start, nxt.text)
        if kind == T.LIMIT:
            depth_limit[depth] = True
        if kind == T.OFFSET and depth_limit.get(depth):
            raise _refuse(sql, start, text)
        if kind == T.GROUP_BY and nxt is not None and nxt.token_type == T.ALL:
            after = tokens[i + 2] if i + 2 < len(tokens) else None
            if after is None or after.token_type in _CLAUSE_ENDS:
                raise _refuse(sql, base + nxt.start, nxt.text)
        if kind == T.STAR and nxt is not None and nxt.text.lower() in ("exclude", "replace"):
            raise _refuse(sql, base + nxt.start, nxt.text)
        if nxt is not None and nxt.token_type == T.L_PAREN and kind in (T.VAR, T.LEFT, T.RIGHT):
            name = text.lower()
            if prev is not None and prev.token_type in (T.ALIAS, T.DOT):
                continue  # a column list (``AS t (a, b)``) or a qualified name
            if name in ctes and prev is not None and prev.token_type in (T.WITH, T.COMMA, T.RECURSIVE):
                continue  # ``WITH name (a, b) AS (...)``
            if name not in TRINO_FUNCTIONS:
                line, col = _position(sql, start)
                raise QueryFailure(
                    "FUNCTION_NOT_FOUND", f"line {line}:{col}: Function '{name}' not registered", USER
                )


_SUBSCRIPTED = frozenset({T.VAR, T.IDENTIFIER, T.R_PAREN, T.R_BRACKET, T.ARRAY, T.STRING, T.MAP})
_CLAUSE_ENDS = frozenset({T.ORDER_BY, T.LIMIT, T.HAVING, T.R_PAREN, T.SEMICOLON, T.OFFSET, T.UNION})
