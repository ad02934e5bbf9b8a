"""What each Iceberg table holds and how fresh it is: `doit tables`, and the freshness lines of `doit status`.

Everything but the newest `timestamp` comes from the current metadata file (read through the same sandboxed
DuckDB connection as `doit query`, so `s3://` works the same way as local disk): rows, data files and size
from the current snapshot's summary, the snapshot count, the last commit, the partition spec. The newest
`timestamp` is `max(timestamp)` over the table's view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks.query import TableRef, first_line

if TYPE_CHECKING:
    import duckdb

    from tasks.aws import Clients
    from tasks.config import Config


@dataclass(frozen=True)
class TableFacts:
    signal: str
    rows: int
    data_files: int
    total_bytes: int
    snapshots: int
    last_commit: dt.datetime | None  # UTC; None: no snapshot yet
    partition_spec: str
    newest_timestamp: dt.datetime | None  # UTC; None: no rows
    metadata_location: str


def partition_text(meta: dict[str, Any]) -> str:
    """The default spec as people write it: `day(timestamp)`; `unpartitioned` when it has no field."""
    schema_id = meta.get("current-schema-id", 0)
    schemas = meta.get("schemas") or ([meta["schema"]] if "schema" in meta else [])
    schema = next((s for s in schemas if s.get("schema-id", 0) == schema_id), schemas[0] if schemas else {})
    names = {f["id"]: f["name"] for f in schema.get("fields", [])}
    spec_id = meta.get("default-spec-id", 0)
    specs = meta.get("partition-specs") or []
    spec = next((s for s in specs if s.get("spec-id") == spec_id), {"fields": meta.get("partition-spec", [])})
    fields = [
        f"{f['transform']}({names.get(f['source-id'], f['source-id'])})" for f in spec.get("fields", [])
    ]
    return ", ".join(fields) or "unpartitioned"


def facts_from_metadata(
    signal: str, location: str, meta: dict[str, Any], newest: dt.datetime | None
) -> TableFacts:
    """Pure: the figures of one table from its metadata document."""
    snapshots = meta.get("snapshots") or []
    current_id = meta.get("current-snapshot-id")
    current = next((s for s in snapshots if s.get("snapshot-id") == current_id), None)
    summary = (current or {}).get("summary", {})
    commit = None
    if current is not None:
        commit = dt.datetime.fromtimestamp(current["timestamp-ms"] / 1000, tz=dt.UTC)
    return TableFacts(
        signal=signal,
        rows=int(summary.get("total-records", 0)),
        data_files=int(summary.get("total-data-files", 0)),
        total_bytes=int(summary.get("total-files-size", 0)),
        snapshots=len(snapshots),
        last_commit=commit,
        partition_spec=partition_text(meta),
        newest_timestamp=newest,
        metadata_location=location,
    )


def read_metadata(conn: duckdb.DuckDBPyConnection, location: str) -> dict[str, Any]:
    row = conn.execute("SELECT content FROM read_text(?)", [location]).fetchone()
    assert row is not None
    doc: dict[str, Any] = json.loads(row[0])
    return doc


def newest(conn: duckdb.DuckDBPyConnection, signal: str) -> dt.datetime | None:
    """The engines' newest-row question (tasks/engines/sql.py: the SQL both engines read alike)."""
    from tasks.engines.base import utc
    from tasks.engines.sql import newest_sql

    row = conn.execute(newest_sql(signal)).fetchone()
    return utc(row[0] if row else None)  # Iceberg `timestamp` is UTC


def table_facts(conn: duckdb.DuckDBPyConnection, refs: Sequence[TableRef]) -> list[TableFacts]:
    return [
        facts_from_metadata(
            r.signal, r.metadata_location, read_metadata(conn, r.metadata_location), newest(conn, r.signal)
        )
        for r in refs
    ]


def collect(clients: Clients, config: Config, names: Sequence[str] | None = None) -> list[TableFacts]:
    """One GetTableMetadataLocation per table (`names`, or the env's tables, kept ones included: one
    ListTables more), then local or S3 reads only."""
    import duckdb

    from tasks.errors import StepFailed
    from tasks.query import open_env

    conn, refs = open_env(clients, config, names)
    failure = None
    try:
        return table_facts(conn, refs)
    except duckdb.Error as exc:
        failure = first_line(exc)
    finally:
        conn.close()
    # raised outside the handler, so DuckDB's exception does not outlive the command (see query.run)
    raise StepFailed(f"error: DuckDB cannot read the env's tables: {failure}")


def collect_bucket(clients: Clients, config: Config) -> tuple[list[TableFacts], list[str]]:
    """`doit tables`: the env's tables (its signals', then the kept ones), then the signals' tables kept in
    a namespace the env no longer writes (named NAMESPACE.TABLE); and which of them are kept. One ListTables
    of the bucket names them all (tasks/query.py list_bucket)."""
    from tasks.query import elsewhere, env_tables, in_namespace, list_bucket

    bucket = list_bucket(clients, config)
    facts = collect(clients, config, env_tables(config, in_namespace(config, bucket)))
    kept = [f.signal for f in facts if f.signal not in config.signals]
    for namespace, names in elsewhere(config, bucket).items():
        theirs = collect(clients, dataclasses.replace(config, namespace=namespace), names)
        facts += [dataclasses.replace(f, signal=f"{namespace}.{f.signal}") for f in theirs]
        kept += [f"{namespace}.{n}" for n in names]
    return facts, kept


# -- text -----------------------------------------------------------------------------------------------


def age(now: dt.datetime, then: dt.datetime | None) -> str:
    """`45s`, `12m`, `3h 5m`, `2d 4h`; `in 5m` for a time ahead of this clock."""
    if then is None:
        return "-"
    seconds = int((now - then).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        text = f"{seconds}s"
    elif seconds < 3600:
        text = f"{seconds // 60}m"
    elif seconds < 86400:
        text = f"{seconds // 3600}h {seconds % 3600 // 60}m"
    else:
        text = f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    return f"in {text}" if ahead else text


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def stamp(t: dt.datetime | None) -> str:
    return "-" if t is None else t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def facts_dict(f: TableFacts, now: dt.datetime, kept: bool = False) -> dict[str, Any]:
    """`kept`: the table of a signal no longer in the config (kept with its rows, not ingesting)."""
    return {
        "table": f.signal,
        "kept": kept,
        "rows": f.rows,
        "data_files": f.data_files,
        "total_bytes": f.total_bytes,
        "snapshots": f.snapshots,
        "last_commit": None if f.last_commit is None else f.last_commit.isoformat(),
        "last_commit_age_seconds": _seconds(now, f.last_commit),
        "partition_spec": f.partition_spec,
        "newest_timestamp": None if f.newest_timestamp is None else f.newest_timestamp.isoformat(),
        "newest_timestamp_age_seconds": _seconds(now, f.newest_timestamp),
        "metadata_location": f.metadata_location,
    }


def _seconds(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return None if then is None else int((now - then).total_seconds())


def tables_text(env: str, facts: Sequence[TableFacts], now: dt.datetime, kept: Sequence[str] = ()) -> str:
    head = ["table", "rows", "files", "size", "snapshots", "last commit (UTC)", "age", "partition",
            "newest timestamp (UTC)", "age"]  # fmt: skip
    body = [
        [f.signal + (" (kept)" if f.signal in kept else ""), str(f.rows), str(f.data_files),
         size(f.total_bytes), str(f.snapshots), stamp(f.last_commit), age(now, f.last_commit),
         f.partition_spec, stamp(f.newest_timestamp), age(now, f.newest_timestamp)]
        for f in facts
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    right = {1, 2, 3, 4}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([f"tables env={env}", *(line(r).rstrip() for r in [head, *body])])


def _age_of(seconds: int | None) -> str:
    if seconds is None:
        return "none"
    now = dt.datetime.now(dt.UTC)
    text = age(now, now - dt.timedelta(seconds=seconds))
    return text if text.startswith("in ") else f"{text} ago"


def freshness_lines(doc: dict[str, Any]) -> list[str]:
    """Status's lines, from the JSON form (so `format=json` and text show the same figures)."""
    if doc.get("error"):
        return [f"freshness: unavailable: {doc['error']}"]
    return [
        f"freshness {t['table']}: {t['rows']} rows, newest timestamp {_when(t['newest_timestamp'])} "
        f"({_age_of(t['newest_timestamp_age_seconds'])}), last commit {_when(t['last_commit'])} "
        f"({_age_of(t['last_commit_age_seconds'])})" + (", kept, not ingesting" if t.get("kept") else "")
        for t in doc.get("tables", [])
    ]


def _when(iso: str | None) -> str:
    return "-" if iso is None else iso[:19].replace("T", " ")


def freshness(clients: Clients, config: Config, names: Sequence[str] | None = None) -> dict[str, Any]:
    """Status's freshness block (of `names`, or the env's tables). Never raises: an undeployed env is
    already the steps' drift."""
    from tasks.errors import describe

    now = dt.datetime.now(dt.UTC)
    try:
        facts = collect(clients, config, names)
    except Exception as exc:
        return {"error": first_line(Exception(describe(exc)[0].removeprefix("error: "))), "tables": []}
    return {"error": None, "tables": [facts_dict(f, now, f.signal not in config.signals) for f in facts]}
