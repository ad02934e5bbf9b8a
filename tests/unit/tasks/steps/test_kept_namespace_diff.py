"""Pure checks (no AWS) of a namespace change: the bucket listing split by namespace (tasks/query.py), the
kept tables of a namespace the env left (kept_tables.diff, report) and the create of a table that starts
empty while the old one keeps the rows (tables.diff)."""

from __future__ import annotations

from lake import schemas
from tasks import query
from tasks.config import load
from tasks.steps import kept_tables, tables
from tasks.steps import table_schema as ts

FIGURES = "1,204 rows, 3.1 MiB, newest 2026-12-06 07:10:00 UTC"


def test_the_bucket_listing_gives_the_signals_tables_of_other_namespaces_and_nothing_else():
    cfg = load("local", {"namespace": "otel"})
    bucket = {
        "default": ["logs", "notes_of_another_team", "traces"],
        "otel": ["logs", "traces"],
        "scratch": ["billing_export"],
    }
    assert query.elsewhere(cfg, bucket) == {"default": ["logs", "traces"]}
    assert query.in_namespace(cfg, bucket) == ["logs", "traces"]
    assert query.in_namespace(cfg, {"default": ["logs"]}) == []  # the namespace is not there yet
    assert query.in_namespace(cfg, None) is None and query.elsewhere(cfg, None) == {}


def test_a_table_of_a_namespace_the_env_left_is_a_note_naming_its_rows_and_never_a_change():
    want = kept_tables.Desired("otel", ("logs", "traces"), ("traces",))
    have = kept_tables.Observed(
        "otel", ("logs", "traces"), (), (kept_tables.Kept("traces", FIGURES, "default"),)
    )
    d = kept_tables.diff(want, have)
    assert d.changes == []  # drop=traces names the current namespace's table, which is active: not this one
    assert d.notes == [
        f"table default.traces is kept in namespace default, not ingesting ({FIGURES}): the env now writes "
        "namespace otel"
    ]
    assert kept_tables.report(have) == [
        (
            "table default.traces",
            f"kept in namespace default, not ingesting: {FIGURES}; the env writes namespace otel",
        )
    ]
    assert kept_tables.report(kept_tables.Observed("otel", (), ())) == [("kept tables", "none")]


def test_creating_a_signals_table_in_a_new_namespace_says_it_starts_empty_and_where_the_rows_stay():
    shape = ts.contract_shape(schemas.load("traces"))
    want = tables.Desired("traces", "otel", shape, {})
    moved = tables.diff(want, tables.Observed("traces", False, elsewhere=("default",)))
    assert [c.action for c in moved.changes] == ["create"]
    assert moved.notes == [
        "table otel.traces starts empty: the rows of traces stay in table default.traces (kept in namespace "
        "default, not ingesting; nothing deletes it)"
    ]
    assert tables.diff(want, tables.Observed("traces", False)).notes == []  # a first deploy: nothing to say
