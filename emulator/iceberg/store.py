"""Real Iceberg (format v2) tables for the emulator's S3 Tables, on local disk.

S3 Tables stores Iceberg tables; the emulator keeps them as pyiceberg tables in a SqlCatalog (sqlite) with a
``file://`` warehouse under the data dir, so any Iceberg reader (``StaticTable.from_metadata``) sees exactly
what Firehose delivered. A table bucket is named by its ARN (account, region and name), and each has its own
catalog and warehouse folder: equal bucket or namespace names of two accounts or regions stay apart.

``commit`` applies an Iceberg REST commit (requirements, then updates: pyiceberg's SqlCatalog does both) and
refuses what Iceberg's schema evolution refuses (evolution.py). After every change the moto s3tables Table
object is pointed at the new metadata file, so ``GetTableMetadataLocation`` answers with a location pyiceberg
can open. Schemas, partition specs and table bucket ARNs are schema.py's.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.core.registry import RESET_FILES, register_reset
from emulator.iceberg.evolution import check_evolution
from emulator.iceberg.schema import build_partition_spec, build_schema, split_bucket_arn

if TYPE_CHECKING:  # pyiceberg / pyarrow load lazily: they cost ~1 s of emulator start-up and ~80 MB RSS
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.update import TableRequirement, TableUpdate


class IcebergStore:
    """Process-wide Iceberg tables by (table bucket ARN, namespace, table). One lock: commits are short."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()
        self._catalogs: dict[str, SqlCatalog] = {}
        self._tables: dict[tuple[str, str, str], Table] = {}

    # -- catalogs ---------------------------------------------------------------------------------------
    def _warehouse(self, bucket: str) -> Path:
        account, region, name = split_bucket_arn(bucket)
        return self.root / "warehouse" / account / region / name

    def _catalog(self, bucket: str) -> SqlCatalog:
        cat = self._catalogs.get(bucket)
        if cat is None:
            from pyiceberg.catalog.sql import SqlCatalog

            self.root.mkdir(parents=True, exist_ok=True)
            warehouse = self._warehouse(bucket)
            warehouse.mkdir(parents=True, exist_ok=True)
            account, region, name = split_bucket_arn(bucket)
            cat = SqlCatalog(
                f"{account}.{region}.{name}",
                uri=f"sqlite:///{self.root / 'catalog.db'}",
                warehouse=warehouse.as_uri(),
            )
            _fast_sqlite(cat)
            self._catalogs[bucket] = cat
        return cat

    def table_location(self, bucket: str, namespace: str, table: str) -> str:
        return (self._warehouse(bucket) / namespace / table).as_uri()

    # -- API --------------------------------------------------------------------------------------------
    def create_table(
        self,
        bucket: str,
        namespace: str,
        table: str,
        schema_fields: list[dict[str, Any]],
        partition_fields: list[dict[str, Any]] | None = None,
        properties: dict[str, str] | None = None,
    ) -> str:
        """Create the table (format v2) in the bucket (its ARN) and return its metadata location. Field ids
        are assigned fresh, in field order, as Iceberg catalogs do on create (pyiceberg's create_table)."""
        schema = build_schema(schema_fields)
        spec = build_partition_spec(schema, partition_fields)
        props = {"format-version": "2", **(properties or {})}
        with self._lock:
            cat = self._catalog(bucket)
            from pyiceberg.exceptions import NamespaceAlreadyExistsError

            with contextlib.suppress(NamespaceAlreadyExistsError):
                cat.create_namespace(namespace)
            tbl = cat.create_table(
                (namespace, table),
                schema=schema,
                location=self.table_location(bucket, namespace, table),
                partition_spec=spec,
                properties=props,
            )
            self._tables[(bucket, namespace, table)] = tbl
            _sync_s3tables(bucket, namespace, table, tbl.metadata_location)
            return tbl.metadata_location

    def drop_table(self, bucket: str, namespace: str, table: str, purge: bool = True) -> None:
        with self._lock:
            self._tables.pop((bucket, namespace, table), None)
            cat = self._catalog(bucket)
            from pyiceberg.exceptions import NoSuchTableError

            with contextlib.suppress(NoSuchTableError):
                cat.drop_table((namespace, table))
            if purge:
                shutil.rmtree(self._warehouse(bucket) / namespace / table, ignore_errors=True)

    def exists(self, bucket: str, namespace: str, table: str) -> bool:
        with self._lock:
            if (bucket, namespace, table) in self._tables:
                return True
            from pyiceberg.exceptions import NoSuchTableError

            try:
                self.load(bucket, namespace, table)
            except NoSuchTableError:
                return False
            return True

    def load(self, bucket: str, namespace: str, table: str) -> Table:
        """The live table (raises pyiceberg's NoSuchTableError)."""
        with self._lock:
            key = (bucket, namespace, table)
            tbl = self._tables.get(key)
            if tbl is None:
                tbl = self._catalog(bucket).load_table((namespace, table))
                self._tables[key] = tbl
            return tbl

    def schema(self, bucket: str, namespace: str, table: str) -> Schema:
        return self.load(bucket, namespace, table).schema()

    def metadata_location(self, bucket: str, namespace: str, table: str) -> str:
        return self.load(bucket, namespace, table).metadata_location

    def append(self, bucket: str, namespace: str, table: str, rows: list[dict[str, Any]] | pa.Table) -> str:
        """Append rows (dicts of Python values, or an Arrow table) in ONE commit; returns the new location.

        The rows are written with the table's current schema: an Arrow table built for an older schema
        (a delivery that started before a commit widened a column) is cast to it first.
        """
        with self._lock:
            tbl = self.load(bucket, namespace, table)
            arrow_schema = tbl.schema().as_arrow()
            import pyarrow as pa

            if isinstance(rows, pa.Table):
                data = rows if rows.schema.equals(arrow_schema) else _conform(rows, arrow_schema)
            else:
                data = pa.Table.from_pylist(rows, schema=arrow_schema)
            if data.num_rows:
                tbl.append(data)
            _sync_s3tables(bucket, namespace, table, tbl.metadata_location)
            return tbl.metadata_location

    def commit(
        self,
        bucket: str,
        namespace: str,
        table: str,
        requirements: tuple[TableRequirement, ...],
        updates: tuple[TableUpdate, ...],
    ) -> Table:
        """An Iceberg REST commit: the requirements hold (else pyiceberg's CommitFailedException), every
        new schema is an evolution Iceberg allows (else IcebergStoreError), then the updates are applied."""
        from pyiceberg.table.update import AddSchemaUpdate

        with self._lock:
            tbl = self.load(bucket, namespace, table)
            for update in updates:
                if isinstance(update, AddSchemaUpdate):
                    check_evolution(tbl.schema(), update.schema_)
            cat = self._catalog(bucket)
            cat.commit_table(tbl, requirements, updates)
            fresh = cat.load_table((namespace, table))
            self._tables[(bucket, namespace, table)] = fresh
            _sync_s3tables(bucket, namespace, table, fresh.metadata_location)
            return fresh

    def reset(self) -> None:
        """Forget every cached catalog and table (the data dir itself is emptied by the server)."""
        with self._lock:
            for cat in self._catalogs.values():
                engine = getattr(cat, "engine", None)
                if engine is not None:
                    engine.dispose()
            self._catalogs.clear()
            self._tables.clear()


def _conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """``data`` (built for an older schema of the table) cast to its current one; new columns are null."""
    import pyarrow as pa

    columns = []
    for field in schema:
        if field.name in data.column_names:
            columns.append(data.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(data.num_rows, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _fast_sqlite(cat: SqlCatalog) -> None:
    """No fsync per commit: the emulator's catalog is scratch state (wiped on reset), not a record."""
    from sqlalchemy import event

    engine = getattr(cat, "engine", None)
    if engine is None:
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    engine.dispose()  # connections made before the listener get the pragmas on their next connect


def _sync_s3tables(bucket: str, namespace: str, table: str, location: str) -> None:
    """Point moto's s3tables Table at ``location`` (bypassing its s3:// check: our warehouse is local)."""
    from moto.s3tables.models import s3tables_backends

    account, region, _ = split_bucket_arn(bucket)
    tb = s3tables_backends[account][region].table_buckets.get(bucket)
    ns = tb.namespaces.get(namespace) if tb is not None else None
    moto_table = ns.tables.get(table) if ns is not None else None
    if moto_table is not None and moto_table.metadata_location != location:
        moto_table.metadata_location = location
        moto_table.version_token = moto_table._generate_version_token()


_store_lock = threading.Lock()
_store: IcebergStore | None = None


def get_store() -> IcebergStore:
    """The store under ``data_dir()/iceberg``; a new one when the data dir changed."""
    global _store
    from emulator.core.state import data_dir

    with _store_lock:
        root = data_dir() / "iceberg"
        if _store is None or _store.root != root:
            if _store is not None:
                _store.reset()
            _store = IcebergStore(root)
        return _store


def reset() -> None:
    """Drop in-memory state; the next ``get_store()`` starts over (under the current data dir). Runs in the
    reset's files phase: after the services' own (a Firehose delivery in flight finishes first), before
    the data dir is emptied."""
    global _store
    with _store_lock:
        if _store is not None:
            _store.reset()
        _store = None


register_reset(reset, RESET_FILES)
