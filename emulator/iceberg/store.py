"""Real Iceberg (format v2) tables for the emulator's S3 Tables, on local disk.

S3 Tables stores Iceberg tables; the emulator keeps them as pyiceberg tables in a SqlCatalog (sqlite) with a
``file://`` warehouse under the data dir, so any Iceberg reader (``StaticTable.from_metadata``) sees exactly
what Firehose delivered. A table bucket is named by its ARN (account, region and name), and each has its own
catalog and warehouse folder: equal bucket or namespace names of two accounts or regions stay apart.

``commit`` applies an Iceberg REST commit (requirements, then updates: pyiceberg's SqlCatalog does both) and
refuses what Iceberg's schema evolution refuses (evolution.py). After every change the moto s3tables Table
object is pointed at the new metadata file, so ``GetTableMetadataLocation`` answers with a location pyiceberg
can open.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pyiceberg / pyarrow load lazily: they cost ~1 s of emulator start-up and ~80 MB RSS
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.transforms import Transform
    from pyiceberg.types import IcebergType


@functools.cache
def _primitives() -> dict[str, IcebergType]:
    from pyiceberg.types import (
        BinaryType,
        BooleanType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
        TimestampType,
        TimestamptzType,
        TimeType,
        UUIDType,
    )

    return {
        "boolean": BooleanType(),
        "int": IntegerType(),
        "integer": IntegerType(),
        "long": LongType(),
        "float": FloatType(),
        "double": DoubleType(),
        "string": StringType(),
        "binary": BinaryType(),
        "date": DateType(),
        "time": TimeType(),
        "timestamp": TimestampType(),
        "timestamptz": TimestamptzType(),
        "uuid": UUIDType(),
    }


DECIMAL_RE = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_PARAM_TRANSFORM_RE = re.compile(r"^(bucket|truncate)\[(\d+)\]$")
FIRST_PARTITION_FIELD_ID = 1000


class IcebergStoreError(ValueError):
    """A table definition the store cannot build (bad type, transform or source id)."""


def iceberg_type(name: str) -> IcebergType:
    from pyiceberg.types import DecimalType

    key = name.strip().lower()
    if key in _primitives():
        return _primitives()[key]
    match = DECIMAL_RE.match(key)
    if match:
        return DecimalType(int(match.group(1)), int(match.group(2)))
    raise IcebergStoreError(f"unsupported Iceberg type {name!r}")


def build_schema(schema_fields: list[dict[str, Any]]) -> Schema:
    """CFN ``SchemaFieldList`` ({Name, Type, Required, Id?}) -> Iceberg schema (ids 1.. when not given)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    fields = []
    used: set[int] = {int(f["Id"]) for f in schema_fields if f.get("Id") is not None}
    next_id = 1
    for f in schema_fields:
        if f.get("Id") is not None:
            field_id = int(f["Id"])
        else:
            while next_id in used:
                next_id += 1
            field_id = next_id
            used.add(field_id)
        required = f.get("Required", False)
        if isinstance(required, str):
            required = required.lower() == "true"
        fields.append(
            NestedField(field_id, str(f["Name"]), iceberg_type(str(f["Type"])), required=bool(required))
        )
    return Schema(*fields)


def _transform(name: str) -> Transform[Any, Any]:
    from pyiceberg.transforms import (
        BucketTransform,
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        TruncateTransform,
        VoidTransform,
        YearTransform,
    )

    key = name.strip().lower()
    simple: dict[str, Transform[Any, Any]] = {
        "identity": IdentityTransform(),
        "year": YearTransform(),
        "month": MonthTransform(),
        "day": DayTransform(),
        "hour": HourTransform(),
        "void": VoidTransform(),
    }
    if key in simple:
        return simple[key]
    match = _PARAM_TRANSFORM_RE.match(key)
    if match:
        n = int(match.group(2))
        return BucketTransform(n) if match.group(1) == "bucket" else TruncateTransform(n)
    raise IcebergStoreError(f"unsupported partition transform {name!r}")


def build_partition_spec(schema: Schema, partition_fields: list[dict[str, Any]] | None) -> PartitionSpec:
    """CFN ``IcebergPartitionSpec.Fields`` ({SourceId, Transform, Name, FieldId?}) -> PartitionSpec."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec

    fields = []
    for i, f in enumerate(partition_fields or []):
        source_id = int(f["SourceId"])
        try:
            source = schema.find_field(source_id)
        except ValueError as exc:
            raise IcebergStoreError(f"partition field SourceId {source_id} is not a column id") from exc
        transform = _transform(str(f["Transform"]))
        name = str(f.get("Name") or f"{source.name}_{str(f['Transform']).lower()}")
        field_id = int(f["FieldId"]) if f.get("FieldId") is not None else FIRST_PARTITION_FIELD_ID + i
        fields.append(PartitionField(source_id=source_id, field_id=field_id, transform=transform, name=name))
    return PartitionSpec(*fields)


def bucket_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The table bucket's ARN, the store's key for it."""
    return f"arn:{partition}:s3tables:{region}:{account_id}:bucket/{name}"


def split_bucket_arn(arn: str) -> tuple[str, str, str]:
    """``arn:PARTITION:s3tables:REGION:ACCOUNT:bucket/NAME`` -> (account, region, name)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "s3tables" or not parts[5].startswith("bucket/"):
        raise IcebergStoreError(f"not a table bucket ARN: {arn!r}")
    return parts[4], parts[3], parts[5].removeprefix("bucket/")


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

        from emulator.iceberg.evolution import check_evolution

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
    """Drop in-memory state; the next ``get_store()`` starts over (under the current data dir)."""
    global _store
    with _store_lock:
        if _store is not None:
            _store.reset()
        _store = None
