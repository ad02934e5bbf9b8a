"""The pure comparison of a table's live Iceberg schema with the contract (tasks/steps/table_schema.py), and
the table step's diff (tasks/steps/tables.py) built on it: no AWS, no emulator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lake.schemas import load
from tasks.steps import table_schema as ts
from tasks.steps import tables

C = ts.Column


def live(
    columns: list[ts.Column], partition: tuple[tuple[str, str], ...] = (("timestamp", "day"),)
) -> ts.Live:
    return ts.Live(
        ts.Shape(tuple(columns), partition),
        "uuid-1",
        schema_id=0,
        max_schema_id=0,
        last_column_id=max(c.id for c in columns),
        identifier_field_ids=(),
        rows=7,
        bytes=1024,
    )


BASE = [
    C(1, "timestamp", "timestamp", True),
    C(2, "service_name", "string", True),
    C(3, "flags", "int", False),
]
WANT = ts.Shape(
    (
        C(1, "timestamp", "timestamp", True),
        C(2, "service_name", "string", True),
        C(3, "flags", "long", False),
    ),
    (("timestamp", "day"),),
)


def test_int_to_long_is_an_in_place_change_and_nothing_is_refused():
    changes, refusals = ts.compare("default.logs", WANT, live(BASE))
    assert refusals == []
    assert changes == [
        ts.ColumnChange("flags", "int, optional", "long, optional", "int to long is a type promotion")
    ]


def test_an_equal_table_has_no_change():
    assert ts.compare("default.logs", WANT, live(list(WANT.columns))) == ([], [])


def test_a_new_optional_column_at_the_end_is_added_and_a_required_column_may_become_optional():
    want = ts.Shape(
        (C(1, "timestamp", "timestamp", True), C(2, "service_name", "string", False),
         C(3, "flags", "int", False), C(4, "region", "string", False)),
        (("timestamp", "day"),),
    )  # fmt: skip
    changes, refusals = ts.compare("default.logs", want, live(BASE))
    assert refusals == []
    assert [(c.column, c.before, c.after) for c in changes] == [
        ("service_name", "string, required", "string, optional"),
        ("region", None, "string, optional"),
    ]
    assert changes[1].rule == "a new optional column (old rows read it as null)"


def test_float_to_double_is_a_promotion_but_long_to_int_and_string_to_long_are_refused():
    for before, after, ok in (("float", "double", True), ("long", "int", False), ("string", "long", False)):
        have = live([C(1, "timestamp", "timestamp", True), C(2, "v", before, False)])
        want = ts.Shape(
            (C(1, "timestamp", "timestamp", True), C(2, "v", after, False)), (("timestamp", "day"),)
        )
        changes, refusals = ts.compare("default.sum", want, have)
        assert bool(changes) is ok and bool(refusals) is not ok, (before, after)
    (refusal,) = refusals
    assert refusal.line == (
        "error: table default.sum, column v: type string cannot become long in place (Iceberg promotes only "
        "int to long and float to double); keep it string, or add a new optional column of type long"
    )


def test_refusals_name_table_column_rule_and_remedy():
    cases: dict[str, tuple[ts.Shape, str]] = {
        "removed": (
            ts.Shape(WANT.columns[:2], WANT.partition),
            "error: table default.logs, column flags: it is in the table but not in the contract, and a "
            "column is never removed (its data would be lost); keep the column in config/schemas",
        ),
        "new required": (
            ts.Shape((*WANT.columns, C(4, "region", "string", True)), WANT.partition),
            "error: table default.logs, column region: a new column must be optional (the rows already there "
            "have no value for it); add it with required: false",
        ),
        "optional made required": (
            ts.Shape((*WANT.columns[:2], C(3, "flags", "int", True)), WANT.partition),
            "error: table default.logs, column flags: an optional column cannot become required (rows "
            "without a value exist or may); keep it optional (required: false)",
        ),
        "partition": (
            ts.Shape(WANT.columns, (("timestamp", "hour"),)),
            "error: table default.logs, column (partition spec): the table is partitioned by day(timestamp) "
            "and the contract says hour(timestamp): a new partition spec is not an in-place change of this "
            "contract; keep day(timestamp)",
        ),
        "inserted": (
            ts.Shape((WANT.columns[0], C(2, "region", "string", False), *(replace(c, id=c.id + 1) for c in
                      WANT.columns[1:])), WANT.partition),
            "error: table default.logs, column service_name: it has field id 2 in the table and 3 in the "
            "contract (a column was inserted, removed or moved); add new columns only at the end of "
            "config/schemas, and never remove or reorder one",
        ),
    }  # fmt: skip
    for name, (want, line) in cases.items():
        _, refusals = ts.compare("default.logs", want, live(BASE))
        assert line in [r.line for r in refusals], (name, [r.line for r in refusals])


def test_live_from_metadata_reads_the_current_schema_the_default_spec_and_the_snapshot_figures():
    meta: dict[str, Any] = {
        "format-version": 2,
        "table-uuid": "u-1",
        "last-column-id": 3,
        "current-schema-id": 1,
        "schemas": [
            {
                "schema-id": 0,
                "type": "struct",
                "fields": [{"id": 1, "name": "a", "type": "int", "required": True}],
            },
            {
                "schema-id": 1,
                "type": "struct",
                "fields": [
                    {"id": 1, "name": "timestamp", "type": "timestamp", "required": True},
                    {"id": 3, "name": "flags", "type": "long", "required": False},
                ],
            },
        ],
        "default-spec-id": 0,
        "partition-specs": [
            {
                "spec-id": 0,
                "fields": [{"source-id": 1, "transform": "day", "name": "t_day", "field-id": 1000}],
            }
        ],
        "current-snapshot-id": 9,
        "snapshots": [{"snapshot-id": 9, "summary": {"total-records": "12", "total-files-size": "4096"}}],
    }
    got = ts.live_from_metadata(meta)
    assert got.shape.columns == (C(1, "timestamp", "timestamp", True), C(3, "flags", "long", False))
    assert got.shape.partition == (("timestamp", "day"),)
    assert (got.table_uuid, got.schema_id, got.max_schema_id, got.last_column_id) == ("u-1", 1, 1, 3)
    assert (got.rows, got.bytes) == (12, 4096)


def test_the_commit_adds_the_contract_schema_and_asserts_what_it_read():
    have = live(BASE)
    changes, _ = ts.compare("default.logs", WANT, have)
    requirements, updates = ts.evolve_commit(WANT, have, changes)
    assert requirements == [
        {"type": "assert-table-uuid", "uuid": "uuid-1"},
        {"type": "assert-current-schema-id", "current-schema-id": 0},
    ]
    assert updates[0]["action"] == "add-schema" and updates[0]["schema"]["schema-id"] == 1
    assert updates[0]["schema"]["fields"][2] == {"id": 3, "name": "flags", "type": "long", "required": False}
    assert updates[1] == {"action": "set-current-schema", "schema-id": -1}
    grown = ts.Shape((*WANT.columns, C(4, "region", "string", False)), WANT.partition)
    requirements, _ = ts.evolve_commit(grown, have, ts.compare("default.logs", grown, have)[0])
    assert {"type": "assert-last-assigned-field-id", "last-assigned-field-id": 3} in requirements


def test_create_metadata_carries_ids_and_the_day_partition_of_the_contract():
    meta = ts.create_metadata(ts.contract_shape(load("traces")))["iceberg"]
    assert meta["schema"]["fields"][24] == {"id": 25, "name": "flags", "type": "long", "required": False}
    assert meta["partitionSpec"] == {
        "fields": [{"sourceId": 1, "transform": "day", "name": "timestamp_day", "fieldId": 1000}]
    }


def _desired(signal: str = "logs", target: int = 512) -> tables.Desired:
    maintenance = {
        tables.COMPACTION: {"status": "enabled", "settings": {"targetFileSizeMB": target}},
        tables.SNAPSHOTS: {
            "status": "enabled",
            "settings": {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120},
        },
    }
    return tables.Desired(signal, "default", ts.contract_shape(load(signal)), maintenance)


def test_table_step_diff_per_column_and_maintenance():
    want = _desired("traces", target=256)
    assert [c.action for c in tables.diff(want, tables.Observed("traces", False)).changes] == ["create"]
    created = tables.diff(want, tables.Observed("traces", False)).changes[0]
    assert created.fields["icebergCompaction.targetFileSizeMB"] == (512, 256)
    old = [replace(c, type="int") if c.name == "flags" else c for c in want.shape.columns]
    have = tables.Observed("traces", True, live(old), tables.NEW_TABLE_MAINTENANCE)
    d = tables.diff(want, have)
    assert [(c.action, c.resource) for c in d.changes] == [
        ("update", "iceberg table default.traces"),
        ("update", "maintenance of iceberg table default.traces"),
    ]
    assert d.changes[0].fields == {"column flags": ("int, optional", "long, optional")}
    assert d.changes[1].fields == {"icebergCompaction.targetFileSizeMB": (512, 256)}
    assert d.refusals == []
    assert tables.report(have) == [
        ("table traces", "7 rows, day(timestamp), schema differs from the contract: flags int, optional -> "
         "long, optional (deploy evolves it in place)")
    ]  # fmt: skip
    same = tables.Observed("traces", True, live(list(want.shape.columns)), tables.NEW_TABLE_MAINTENANCE)
    assert tables.diff(_desired("traces"), same).empty
    assert tables.report(same) == [("table traces", "7 rows, day(timestamp), schema matches the contract")]
