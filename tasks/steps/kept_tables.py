"""Tables of signals that left the config: kept, with their rows, until `drop=NAME` names them.

Narrowing `signals` deletes the signal's stream (stream_cleanup) and the Firehose role's grants on its table
(grants), never the table: an S3 Tables delete is permanent. The table stays queryable (`doit query`,
`doit tables`), `status` shows it "kept, not ingesting", and a signal that comes back resumes into it.
`doit deploy drop=traces` deletes the kept table `traces`: that change says what it loses (rows, size,
newest timestamp), plan lists it first, and deploy refuses it unless `drop=` names it (Run.check).

A namespace the env left is the same case: after `namespace` changes, the signals' tables of the old
namespace keep their rows, no stream writes them, and plan and status name them ("kept in namespace default,
not ingesting ...: the env now writes namespace otel"). Deploy never deletes them; tables whose names are no
signal's are someone else's and never mentioned.

Observed: one ListTables of the env's table bucket, every namespace at once (table_listing.py, shared with
readers.py and the tables step), and for each kept table its figures (tasks/table_facts.py: one
GetTableMetadataLocation each, then the metadata and a `max(timestamp)` read).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from botocore.exceptions import ClientError

from lake.signals import ALL_SIGNALS
from tasks.config import Config
from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome
from tasks.steps import table_listing
from tasks.steps.tables import bucket_arn

NAME = "kept_tables"


@dataclass(frozen=True)
class Kept:
    name: str
    figures: str  # "1,204 rows, 3.1 MiB, newest 2026-12-06 07:10:00 UTC" (or why they are unknown)
    namespace: str = ""  # set for a table of a namespace the env no longer writes


@dataclass(frozen=True)
class Desired:
    namespace: str
    signals: tuple[str, ...]
    drop: tuple[str, ...]


@dataclass(frozen=True)
class Observed:
    namespace: str
    tables: tuple[str, ...]
    kept: tuple[Kept, ...]
    elsewhere: tuple[Kept, ...] = ()  # the signals' tables in the bucket's other namespaces


def desired(ctx: Context) -> Desired:
    return Desired(ctx.config.namespace, tuple(ctx.config.signals), ctx.options.drop)


def figures(ctx: Context, names: Sequence[str], namespace: str | None = None) -> dict[str, str]:
    """Rows, size and newest timestamp of each table (of the env's namespace, or `namespace`), from its
    metadata (tasks/table_facts.py)."""
    if not names:
        return {}
    from tasks.errors import describe
    from tasks.table_facts import collect, size, stamp

    config = ctx.config if namespace is None else dataclasses.replace(ctx.config, namespace=namespace)
    try:
        facts = collect(ctx.clients, config, names)
    except Exception as exc:  # the figures are for people; their absence never blocks a decision
        reason = describe(exc)[0].removeprefix("error: ")
        return {n: f"rows unknown ({reason})" for n in names}
    return {
        f.signal: f"{f.rows:,} rows, {size(f.total_bytes)}, newest "
        + ("none" if f.newest_timestamp is None else f"{stamp(f.newest_timestamp)} UTC")
        for f in facts
    }


def kept_names(config: Config, tables: Sequence[str] | None) -> list[str]:
    """The listed tables of signals that left the config (a signal's table, not another's)."""
    from tasks.query import env_tables

    return env_tables(config, tables)[len(config.signals) :]


def observe(ctx: Context) -> Observed:
    tables = table_listing.listed(ctx) or []
    kept = kept_names(ctx.config, tables)
    found = figures(ctx, kept)
    others = []
    for namespace, names in table_listing.elsewhere(ctx).items():
        theirs = figures(ctx, names, namespace)
        others += [Kept(n, theirs.get(n, ""), namespace) for n in names]
    return Observed(
        ctx.config.namespace,
        tuple(tables),
        tuple(Kept(n, found.get(n, "")) for n in kept),
        tuple(others),
    )


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    changes, notes = [], []
    kept = [t.name for t in have.kept]
    refusals = [
        f"error: drop={name} names no kept table of namespace {have.namespace} (kept tables: "
        f"{', '.join(kept) or 'none'}): only a table whose signal left the config can be dropped"
        for name in want.drop
        if name in ALL_SIGNALS and name not in kept
    ]
    for table in have.kept:
        if table.name in want.drop:
            changes.append(
                Change(
                    "delete",
                    f"iceberg table {have.namespace}.{table.name}",
                    reason=f"drop={table.name}",
                    loses=f"table {have.namespace}.{table.name}: {table.figures}",
                    consent=table.name,
                )
            )
        else:
            notes.append(
                f"table {have.namespace}.{table.name} is kept, not ingesting ({table.figures}); "
                f"drop={table.name} deletes it"
            )
    notes += [
        f"table {t.namespace}.{t.name} is kept in namespace {t.namespace}, not ingesting ({t.figures}): the "
        f"env now writes namespace {have.namespace}"
        for t in have.elsewhere
    ]
    return Diff(changes, notes, refusals)


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    gone = []
    for change in d.changes:
        name = change.consent
        try:
            ctx.clients.s3tables.delete_table(
                tableBucketARN=bucket_arn(ctx), namespace=d.observed.namespace, name=name
            )
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise
        gone.append(f"deleted table {d.observed.namespace}.{name} ({change.loses.split(': ', 1)[-1]})")
    return Outcome("deleted", gone)


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.kept and not have.elsewhere:
        return [("kept tables", "none")]
    return [(f"table {t.name}", f"kept, not ingesting: {t.figures}") for t in have.kept] + [
        (
            f"table {t.namespace}.{t.name}",
            f"kept in namespace {t.namespace}, not ingesting: {t.figures}; the env writes namespace "
            f"{have.namespace}",
        )
        for t in have.elsewhere
    ]
