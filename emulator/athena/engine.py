"""One query on DuckDB, over the Iceberg tables it reads and nothing else.

Each query gets its own in-memory DuckDB. Every catalog it names is an attached in-memory database named
as Athena names it (``"s3tablescatalog/BUCKET"``), with one schema per namespace and one view per table
over ``iceberg_scan`` of the table's current metadata file, so Athena's three-part names resolve as
written; the query's context catalog and database are DuckDB's current ones (``USE``), so bare names do too.
Extensions are the pinned packages' files (lake/duckdb_extensions.py), and Trino's functions DuckDB
lacks that Grafana's SQL uses are macros of Trino's names (lake/duckdb_trino.py); then the connection is
sandboxed to the tables' warehouse folders (``enable_external_access=false``, ``allowed_directories``) and its
configuration locked. ``DataScannedInBytes`` is what Athena counts, compressed bytes read: for each data
file DuckDB's profiler says a scan read, the Parquet footer and the column chunks of the columns the scan
projected or filtered on (row groups skipped by statistics are counted all the same).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from emulator.athena.dialect import SYNTAX, USER, Checked, QueryFailure
from emulator.athena.sources import NOT_FOUND_ENTITY, Context, Source, table_bucket
from lake import duckdb_extensions, duckdb_trino
from lake.duckdb_extensions import ident, literal

if TYPE_CHECKING:
    import pyarrow as pa

EXTENSIONS = ("avro", "iceberg")
EXPLAIN_COLUMN = "Query Plan"


class Interrupted(Exception):
    """The query was stopped (StopQueryExecution, or a reset) while DuckDB ran it."""


@dataclass
class Outcome:
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    table: pa.Table
    bytes_read: int
    engine_ms: int
    planning_ms: int


def setup_sql(sources: Sequence[Source], context: Context, account_id: str, region: str) -> list[str]:
    """Every statement that prepares the connection, in order: extensions, catalogs, views, sandbox."""
    sql = [f"LOAD {literal(str(duckdb_extensions.extension_path(n)))}" for n in EXTENSIONS]
    sql += duckdb_trino.MACROS  # Trino's to_unixtime, from_unixtime and approx_percentile, as Athena has them
    catalogs = {s.catalog for s in sources}
    schemas = {(s.catalog, s.namespace) for s in sources}
    use = None
    if table_bucket(account_id, region, context.catalog) is not None:
        catalogs.add(context.catalog)
        schemas.add((context.catalog, context.database))
        use = f"USE {ident(context.catalog)}.{ident(context.database)}"
    sql += [f"ATTACH ':memory:' AS {ident(c)}" for c in sorted(catalogs)]
    sql += [f"CREATE SCHEMA {ident(c)}.{ident(n)}" for c, n in sorted(schemas)]
    for s in sources:
        sql.append(
            f"CREATE VIEW {ident(s.catalog)}.{ident(s.namespace)}.{ident(s.table)} AS "
            f"SELECT * FROM iceberg_scan({literal(s.metadata_location)})"
        )
    if use:
        sql.append(use)
    prefixes: list[str] = []
    for s in sources:
        for form in (s.warehouse, urlparse(s.warehouse).path):
            if form and form not in prefixes:
                prefixes.append(form)
    sql += [
        "SET TimeZone = 'UTC'",  # Athena's session time zone
        "SET enable_profiling = 'no_output'",
        "SET profiling_mode = 'detailed'",
        f"SET allowed_directories = [{', '.join(literal(p) for p in prefixes)}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]
    return sql


def run(
    checked: Checked,
    sources: Sequence[Source],
    context: Context,
    account_id: str,
    region: str,
    on_connect: Callable[[Any], None],
) -> Outcome:
    """Run the checked statement; QueryFailure with Athena's words for DuckDB's refusal, Interrupted when
    ``on_connect``'s receiver interrupted the connection."""
    import duckdb

    started = time.monotonic()
    conn = duckdb.connect(":memory:", config=dict(duckdb_extensions.CONNECT_CONFIG))
    failure: QueryFailure | None = None
    interrupted = False
    try:
        on_connect(conn)
        for statement in setup_sql(sources, context, account_id, region):
            conn.execute(statement)
        planned = time.monotonic()
        table = conn.execute(checked.sql).to_arrow_table()
        columns = [(d[0], str(d[1])) for d in conn.description or []]
        profile = json.loads(conn.get_profiling_information(format="json") or "{}")
    except duckdb.InterruptException:
        interrupted = True
    except duckdb.Error as exc:
        failure = _failure(exc)
    finally:
        on_connect(None)
        conn.close()
    if interrupted:
        raise Interrupted()
    if failure is not None:  # raised outside the handler: DuckDB's frames must not ride along
        raise failure
    if checked.statement_type == "UTILITY":
        table, columns = _plan(table)
    done = time.monotonic()
    return Outcome(
        columns,
        table,
        scanned_bytes(profile) if checked.statement_type == "DML" else 0,
        engine_ms=int((done - started) * 1000),
        planning_ms=int((planned - started) * 1000),
    )


def scanned_bytes(profile: dict[str, Any]) -> int:
    """Compressed bytes of the Parquet footers and column chunks the profile's table scans read."""
    total = 0
    for scan in _scans(profile):
        info = scan.get("extra_info") or {}
        named = info.get("Filename(s)") or ""
        # DuckDB's profile lists the first few files, then "...": those listed stand for the rest
        files = [
            f for f in (named if isinstance(named, list) else str(named).split(", ")) if f and f != "..."
        ]
        projected = info.get("Projections") or []
        wanted = set(projected if isinstance(projected, list) else str(projected).split())
        filters = str(info.get("Filters") or "")
        read = sum(_file_bytes(f, wanted, filters) for f in files)
        listed = int(str(info.get("Total Files Read") or len(files)) or 0)
        total += read * listed // len(files) if files and listed > len(files) else read
    return total


def _scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("operator_type") == "TABLE_SCAN" else []
    for child in node.get("children") or []:
        found += _scans(child)
    return found


def _file_bytes(uri: str, wanted: set[str], filters: str) -> int:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(urlparse(uri).path if uri.startswith("file://") else uri).metadata
    names = {meta.schema.column(i).path.split(".")[0] for i in range(meta.num_columns)}
    columns = wanted | {n for n in names if re.search(rf"\b{re.escape(n)}\b", filters)}
    total = meta.serialized_size + 8  # the footer, its length and the magic
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.path_in_schema.split(".")[0] in columns:
                total += chunk.total_compressed_size
    return int(total)


def _plan(table: pa.Table) -> tuple[pa.Table, list[tuple[str, str]]]:
    """DuckDB's EXPLAIN (key, plan) as Athena shows a plan: one column ``Query Plan``, a row per line."""
    import pyarrow as pa

    lines: list[str] = []
    for value in table.column(table.num_columns - 1).to_pylist():
        lines += str(value or "").splitlines()
    return pa.table({EXPLAIN_COLUMN: pa.array(lines, pa.string())}), [(EXPLAIN_COLUMN, "VARCHAR")]


def _failure(exc: Exception) -> QueryFailure:
    """DuckDB's error in Athena's terms: the error name and ErrorType by kind, DuckDB's first line."""
    import duckdb

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, duckdb.ParserException):
        return QueryFailure("SYNTAX_ERROR", text, SYNTAX)
    if isinstance(exc, duckdb.CatalogException):
        return QueryFailure("NOT_FOUND", text, NOT_FOUND_ENTITY)
    if isinstance(
        exc, duckdb.ConversionException | duckdb.OutOfRangeException | duckdb.InvalidInputException
    ):
        return QueryFailure("INVALID_FUNCTION_ARGUMENT", text, 1001)
    if isinstance(exc, duckdb.BinderException | duckdb.NotImplementedException):
        return QueryFailure("GENERIC_USER_ERROR", text, USER)
    return QueryFailure("GENERIC_INTERNAL_ERROR", text, 200, category=1)
