"""The run's one ListTables of the env's table bucket, shared by the steps that need to know what exists.

One unfiltered read (tasks/query.py list_bucket) answers both questions: which tables the env's namespace
holds (kept_tables.py, readers.py) and which signals' tables stay in a namespace the env no longer writes
(kept_tables.py, and the tables step's note when `namespace` changes). It is read before the table steps
create anything (kept_tables is a guard, evaluated before deploy's first write), so only tables no deploy
creates are taken from it.
"""

from __future__ import annotations

from tasks.step import Context

LISTING_KEY = "tables.listing"


def bucket_tables(ctx: Context) -> dict[str, list[str]] | None:
    """namespace -> its tables, read once a run; None: no table bucket."""
    from tasks.query import list_bucket

    found: dict[str, list[str]] | None = ctx.memo(LISTING_KEY, lambda: list_bucket(ctx.clients, ctx.config))
    return found


def listed(ctx: Context) -> list[str] | None:
    """The env's namespace's tables; None: no table bucket."""
    from tasks.query import in_namespace

    return in_namespace(ctx.config, bucket_tables(ctx))


def elsewhere(ctx: Context) -> dict[str, list[str]]:
    """The signals' tables in the bucket's other namespaces: namespace -> names."""
    from tasks.query import elsewhere as other_namespaces

    return other_namespaces(ctx.config, bucket_tables(ctx))
