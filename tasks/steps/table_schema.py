"""A table's Iceberg schema and partition spec, as the contract wants them and as the live table has them,
and the pure comparison of the two, column by column (tasks/steps/tables.py's diff).

The contract changes only as Iceberg evolves a schema in place (otlp-tables.md, "How this contract
changes"; Iceberg spec, "Schema Evolution"): a new optional column, `int` to `long`, `float` to `double`,
a required column made optional. Each of those is a `ColumnChange`, applied by one commit. Anything else
is a `Refusal`: one line naming the table, the column, the rule and what the user can do; plan and deploy
stop before any write while one stands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lake.schemas import TableSchema

# Iceberg's in-place type promotions (format v2), as (from, to).
PROMOTIONS = frozenset({("int", "long"), ("float", "double")})
PARTITION_FIELD_ID = 1000  # Iceberg's first partition field id


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    type: str  # Iceberg type: long, int, string, ... (a nested type as its JSON)
    required: bool

    @property
    def text(self) -> str:
        return f"{self.type}, {'required' if self.required else 'optional'}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "required": self.required}


@dataclass(frozen=True)
class Shape:
    """Columns and partition fields ((source column, transform), ...): the contract's or a live table's."""

    columns: tuple[Column, ...]
    partition: tuple[tuple[str, str], ...]

    @property
    def partition_text(self) -> str:
        return ", ".join(f"{t}({c})" for c, t in self.partition) or "unpartitioned"


@dataclass(frozen=True)
class Live:
    """What LoadTable says of a table: its current schema and default partition spec, and the ids a commit
    must assert, plus the current snapshot's figures."""

    shape: Shape
    table_uuid: str
    schema_id: int
    max_schema_id: int
    last_column_id: int
    identifier_field_ids: tuple[int, ...]
    rows: int
    bytes: int


@dataclass(frozen=True)
class ColumnChange:
    column: str
    before: str | None  # None: a new column
    after: str
    rule: str


@dataclass(frozen=True)
class Refusal:
    table: str
    column: str
    rule: str
    remedy: str

    @property
    def line(self) -> str:
        return f"error: table {self.table}, column {self.column}: {self.rule}; {self.remedy}"


def contract_shape(schema: TableSchema) -> Shape:
    columns = tuple(Column(c.id, c.name, c.iceberg_type, c.required) for c in schema.columns)
    return Shape(columns, ((schema.partition_source, schema.partition_transform),))


def _type_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def live_from_metadata(metadata: dict[str, Any]) -> Live:
    """Pure: a LoadTable result's `metadata` (Iceberg table metadata, format v1 or v2)."""
    schemas = metadata.get("schemas") or ([metadata["schema"]] if "schema" in metadata else [])
    current_id = int(metadata.get("current-schema-id", 0))
    schema = next(
        (s for s in schemas if int(s.get("schema-id", 0)) == current_id), schemas[-1] if schemas else {}
    )
    columns = tuple(
        Column(int(f["id"]), str(f["name"]), _type_text(f["type"]), bool(f.get("required")))
        for f in schema.get("fields", [])
    )
    names = {c.id: c.name for c in columns}
    spec_id = metadata.get("default-spec-id", 0)
    specs = metadata.get("partition-specs") or []
    spec = next(
        (s for s in specs if s.get("spec-id") == spec_id), {"fields": metadata.get("partition-spec", [])}
    )
    partition = tuple(
        (names.get(int(f["source-id"]), f"#{f['source-id']}"), str(f["transform"]))
        for f in spec.get("fields", [])
    )
    snapshot_id = metadata.get("current-snapshot-id")
    snapshots: list[dict[str, Any]] = metadata.get("snapshots") or []
    snapshot = next((s for s in snapshots if s.get("snapshot-id") == snapshot_id), {})
    summary = snapshot.get("summary") or {}
    return Live(
        Shape(columns, partition),
        str(metadata.get("table-uuid", "")),
        current_id,
        max((int(s.get("schema-id", 0)) for s in schemas), default=0),
        int(metadata.get("last-column-id", max((c.id for c in columns), default=0))),
        tuple(int(i) for i in schema.get("identifier-field-ids") or ()),
        int(summary.get("total-records", 0)),
        int(summary.get("total-files-size", 0)),
    )


def _column(table: str, want: Column, have: Column) -> ColumnChange | Refusal | None:
    if want.id != have.id:
        return Refusal(
            table,
            want.name,
            f"it has field id {have.id} in the table and {want.id} in the contract (a column was inserted, "
            "removed or moved)",
            "add new columns only at the end of config/schemas, and never remove or reorder one",
        )
    rules = []
    if want.type != have.type:
        if (have.type, want.type) not in PROMOTIONS:
            return Refusal(
                table,
                want.name,
                f"type {have.type} cannot become {want.type} in place (Iceberg promotes only int to long and "
                "float to double)",
                f"keep it {have.type}, or add a new optional column of type {want.type}",
            )
        rules.append(f"{have.type} to {want.type} is a type promotion")
    if want.required != have.required:
        if want.required:
            return Refusal(
                table,
                want.name,
                "an optional column cannot become required (rows without a value exist or may)",
                "keep it optional (required: false)",
            )
        rules.append("a required column made optional")
    if not rules:
        return None
    return ColumnChange(want.name, have.text, want.text, "; ".join(rules))


def compare(table: str, want: Shape, have: Live) -> tuple[list[ColumnChange], list[Refusal]]:
    """Pure: the in-place changes that make the live table the contract's, and what cannot be made."""
    changes: list[ColumnChange] = []
    refusals: list[Refusal] = []
    live = {c.name: c for c in have.shape.columns}
    wanted = {c.name for c in want.columns}
    for col in want.columns:
        found = live.get(col.name)
        if found is not None:
            result = _column(table, col, found)
        elif col.required:
            result = Refusal(
                table,
                col.name,
                "a new column must be optional (the rows already there have no value for it)",
                "add it with required: false",
            )
        elif col.id <= have.last_column_id:
            result = Refusal(
                table,
                col.name,
                f"its field id {col.id} is not above the table's last column id {have.last_column_id}",
                "add new columns only at the end of config/schemas",
            )
        else:
            result = ColumnChange(
                col.name, None, col.text, "a new optional column (old rows read it as null)"
            )
        if isinstance(result, Refusal):
            refusals.append(result)
        elif result is not None:
            changes.append(result)
    for col in have.shape.columns:
        if col.name not in wanted:
            refusals.append(
                Refusal(
                    table,
                    col.name,
                    "it is in the table but not in the contract, and a column is never removed (its data "
                    "would be lost)",
                    "keep the column in config/schemas",
                )
            )
    if want.partition != have.shape.partition:
        refusals.append(
            Refusal(
                table,
                "(partition spec)",
                f"the table is partitioned by {have.shape.partition_text} and the contract says "
                f"{want.partition_text}: a new partition spec is not an in-place change of this contract",
                f"keep {have.shape.partition_text}",
            )
        )
    return changes, refusals


def create_metadata(want: Shape) -> dict[str, Any]:
    """CreateTable's `metadata` (botocore s3tables TableMetadata, Iceberg's JSON names on the wire)."""
    ids = {c.name: c.id for c in want.columns}
    return {
        "iceberg": {
            "schema": {"fields": [c.to_json() for c in want.columns]},
            "partitionSpec": {
                "fields": [
                    {
                        "sourceId": ids[source],
                        "transform": transform,
                        "name": f"{source}_{transform}",
                        "fieldId": PARTITION_FIELD_ID + i,
                    }
                    for i, (source, transform) in enumerate(want.partition)
                ]
            },
        }
    }


def evolve_commit(want: Shape, have: Live, changes: list[ColumnChange]) -> tuple[list[Any], list[Any]]:
    """(requirements, updates) of the one commit that makes the live schema the contract's: add-schema
    (the contract's columns, the next schema id) and set-current-schema, asserting the table, its current
    schema and, when columns are added, its last column id (a concurrent change fails the commit: 409)."""
    requirements: list[dict[str, Any]] = [
        {"type": "assert-table-uuid", "uuid": have.table_uuid},
        {"type": "assert-current-schema-id", "current-schema-id": have.schema_id},
    ]
    if any(c.before is None for c in changes):
        requirements.append(
            {"type": "assert-last-assigned-field-id", "last-assigned-field-id": have.last_column_id}
        )
    schema = {
        "type": "struct",
        "schema-id": have.max_schema_id + 1,
        "fields": [c.to_json() for c in want.columns],
        "identifier-field-ids": list(have.identifier_field_ids),
    }
    updates = [{"action": "add-schema", "schema": schema}, {"action": "set-current-schema", "schema-id": -1}]
    return requirements, updates
