"""One Iceberg table per signal (`table_logs`, ...), owned by this step and not by the stack.

Desired: the contract (config/schemas/SIGNAL.yaml, partitioned by `day(timestamp)`) and the `tables.*`
maintenance settings. Observed: the table's maintenance configuration (GetTableMaintenanceConfiguration,
which also says whether the table exists) and its exact schema and partition spec from the S3 Tables
Iceberg REST endpoint (LoadTable, tasks/iceberg_rest.py). The diff is per column (table_schema.py): a
missing table is created (CreateTable with the schema, its field ids and the partition spec); a schema the
contract evolves in place is changed by one commit (add-schema + set-current-schema); a change Iceberg
cannot make in place is refused, before any write. Maintenance that differs is written back
(PutTableMaintenanceConfiguration, one call per type that differs).

A table created in a namespace the env has just moved to starts empty: when the signal's table sits in
another namespace of the bucket (the run's one ListTables, table_listing.py), the create says so and where
the old rows stay (kept_tables.py reports that table; nothing deletes it).

Why not the stack: CloudFormation's `IcebergMetadata` is create-only and write-only, so a contract change
would replace a named table (which fails and rolls the stack back) and drift is invisible to it; the same
reasons moved the streams out (README, "Deploy, plan, status, send, destroy"; docs/changing-tables.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lake import schemas
from tasks.config import Config
from tasks.errors import StepFailed, error_code
from tasks.iceberg_rest import IcebergRest
from tasks.step import Change, Context, Diff, Outcome
from tasks.steps import table_listing
from tasks.steps import table_schema as ts

PREFIX = "table_"
REST_MEMO = "iceberg_rest"
LOAD_MEMO = "load_table:"
COMPACTION = "icebergCompaction"
SNAPSHOTS = "icebergSnapshotManagement"
# What a new table starts with (S3 User Guide, "Maintenance for tables"): only what differs is written.
NEW_TABLE_MAINTENANCE: dict[str, dict[str, Any]] = {
    COMPACTION: {"status": "enabled", "settings": {"targetFileSizeMB": 512}},
    SNAPSHOTS: {"status": "enabled", "settings": {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120}},
}


def step_name(signal: str) -> str:
    return f"{PREFIX}{signal}"


def bucket_arn(ctx: Context) -> str:
    return ctx.config.table_bucket_arn(ctx.account_id)


def rest(ctx: Context) -> IcebergRest:
    """The run's one client of the Iceberg REST endpoint (its GetConfig is read once, by the first use)."""
    client: IcebergRest = ctx.memo(REST_MEMO, lambda: IcebergRest(ctx.clients, bucket_arn(ctx)))
    return client


@dataclass(frozen=True)
class Desired:
    signal: str
    namespace: str
    shape: ts.Shape
    # type -> {"status", "settings": {setting: value}}, as GetTableMaintenanceConfiguration spells them
    maintenance: dict[str, dict[str, Any]]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Observed:
    signal: str
    exists: bool
    live: ts.Live | None = None
    maintenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    elsewhere: tuple[str, ...] = ()  # when missing: the other namespaces holding the signal's table


def desired_maintenance(config: Config) -> dict[str, dict[str, Any]]:
    """The `tables.*` settings as GetTableMaintenanceConfiguration spells them (settings unwrapped)."""
    t = config.tables
    return {
        COMPACTION: {"status": "enabled", "settings": {"targetFileSizeMB": t.compaction_target_mb}},
        SNAPSHOTS: {
            "status": "enabled",
            "settings": {
                "minSnapshotsToKeep": t.snapshot_min_to_keep,
                "maxSnapshotAgeHours": t.snapshot_max_age_hours,
            },
        },
    }


def desired(ctx: Context, signal: str) -> Desired:
    shape = ts.contract_shape(schemas.load(signal))
    maintenance = desired_maintenance(ctx.config)
    return Desired(signal, ctx.config.namespace, shape, maintenance, dict(ctx.config.all_tags))


def maintenance_of(configuration: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GetTableMaintenanceConfiguration's `configuration`, with each type's settings unwrapped."""
    out: dict[str, dict[str, Any]] = {}
    for kind, value in configuration.items():
        settings = (value.get("settings") or {}).get(kind) or {}
        out[kind] = {"status": value.get("status"), "settings": dict(settings)}
    return out


def loaded(ctx: Context, name: str) -> dict[str, Any] | None:
    """LoadTable's result (None: no such table), read once per run: this table's step, the stack step's move
    of a table (stack.py) and the retention step's preview (retention.py) share the read."""
    found: dict[str, Any] | None = ctx.memo(
        f"{LOAD_MEMO}{name}", lambda: rest(ctx).load_table(ctx.config.namespace, name)
    )
    return found


def load(ctx: Context, name: str) -> ts.Live | None:
    """The table as LoadTable gives it, parsed into its shape (None: no such table)."""
    found = loaded(ctx, name)
    return None if found is None else ts.live_from_metadata(found["metadata"])


def observe(ctx: Context, signal: str) -> Observed:
    def missing() -> Observed:
        others = table_listing.elsewhere(ctx)
        return Observed(signal, False, elsewhere=tuple(ns for ns, names in others.items() if signal in names))

    try:
        config = ctx.clients.s3tables.get_table_maintenance_configuration(
            tableBucketARN=bucket_arn(ctx), namespace=ctx.config.namespace, name=signal
        )["configuration"]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":  # the table (or its namespace, or bucket) is not there
            return missing()
        raise
    live = load(ctx, signal)
    if live is None:
        return missing()
    return Observed(signal, True, live, maintenance_of(config))


def maintenance_fields(
    want: dict[str, dict[str, Any]], have: dict[str, dict[str, Any]]
) -> dict[str, tuple[Any, Any]]:
    """`TYPE.status` / `TYPE.SETTING` -> (observed, desired), for what the config sets and differs."""
    out: dict[str, tuple[Any, Any]] = {}
    for kind, value in want.items():
        current = have.get(kind) or {}
        if current.get("status") != value["status"]:
            out[f"{kind}.status"] = (current.get("status"), value["status"])
        for key, wanted in value["settings"].items():
            found = (current.get("settings") or {}).get(key)
            if found != wanted:
                out[f"{kind}.{key}"] = (found, wanted)
    return out


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    table = f"{want.namespace}.{want.signal}"
    res = f"iceberg table {table}"
    if not have.exists:
        fields: dict[str, tuple[Any, Any]] = {
            "columns": (None, len(want.shape.columns)),
            "partition": (None, want.shape.partition_text),
        }
        fields.update(maintenance_fields(want.maintenance, NEW_TABLE_MAINTENANCE))
        notes = [
            f"table {table} starts empty: the rows of {want.signal} stay in table {ns}.{want.signal} (kept "
            f"in namespace {ns}, not ingesting; nothing deletes it)"
            for ns in have.elsewhere
        ]
        return Diff([Change("create", res, fields, reason="CreateTable with the contract's schema")], notes)
    assert have.live is not None
    changes, refusals = ts.compare(table, want.shape, have.live)
    out: list[Change] = []
    if changes:
        out.append(
            Change(
                "update",
                res,
                {f"column {c.column}": (c.before, c.after) for c in changes},
                reason="schema evolves in place: " + "; ".join(dict.fromkeys(c.rule for c in changes)),
            )
        )
    maintenance = maintenance_fields(want.maintenance, have.maintenance)
    if maintenance:
        out.append(
            Change("update", f"maintenance of {res}", maintenance, reason="PutTableMaintenanceConfiguration")
        )
    return Diff(out, refusals=[r.line for r in refusals])


# -- apply ------------------------------------------------------------------------------------------


def _put_maintenance(ctx: Context, want: Desired, have: dict[str, dict[str, Any]]) -> list[str]:
    done = []
    for kind, value in want.maintenance.items():
        if not maintenance_fields({kind: value}, have):
            continue
        ctx.clients.s3tables.put_table_maintenance_configuration(
            tableBucketARN=bucket_arn(ctx),
            namespace=want.namespace,
            name=want.signal,
            type=kind,
            value={"status": value["status"], "settings": {kind: dict(value["settings"])}},
        )
        done.append(f"{want.signal}: {kind} set")
    return done


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want, have = d.desired, d.observed
    if d.refusals:  # Run.check refuses before any write; a caller that skipped it still writes nothing
        raise StepFailed(d.refusals[0])
    if not have.exists:
        ctx.clients.s3tables.create_table(
            tableBucketARN=bucket_arn(ctx),
            namespace=want.namespace,
            name=want.signal,
            format="ICEBERG",
            metadata=ts.create_metadata(want.shape),
            tags=want.tags,
        )
        ctx.forget(f"{LOAD_MEMO}{want.signal}")
        details = [
            f"{want.namespace}.{want.signal}: {len(want.shape.columns)} columns, {want.shape.partition_text}"
        ]
        details += _put_maintenance(ctx, want, NEW_TABLE_MAINTENANCE)
        return Outcome("created", details)
    assert have.live is not None
    details = []
    changes, _ = ts.compare(f"{want.namespace}.{want.signal}", want.shape, have.live)
    if changes:
        requirements, updates = ts.evolve_commit(want.shape, have.live, changes)
        try:
            rest(ctx).commit(want.namespace, want.signal, requirements, updates)
            ctx.forget(f"{LOAD_MEMO}{want.signal}")
        except ClientError as exc:
            if error_code(exc) != "CommitFailedException":
                raise
            raise StepFailed(
                f"error: table {want.namespace}.{want.signal} changed while this deploy read it "
                f"({exc.response['Error'].get('Message', '')}): run `doit deploy` again"
            ) from None
        details += [f"{want.signal}.{c.column}: {c.before or 'new'} -> {c.after}" for c in changes]
    details += _put_maintenance(ctx, want, have.maintenance)
    return Outcome("updated", details)


def report(have: Observed) -> list[tuple[str, str]]:
    """The table's figures and its schema check against the contract (the contract is the signal's)."""
    item = f"table {have.signal}"
    if not have.exists or have.live is None:
        return [(item, "missing")]
    changes, refusals = ts.compare(have.signal, ts.contract_shape(schemas.load(have.signal)), have.live)
    if refusals:
        check = "schema differs from the contract and cannot evolve in place: " + "; ".join(
            f"{r.column}: {r.rule}" for r in refusals
        )
    elif changes:
        check = (
            "schema differs from the contract: "
            + ", ".join(f"{c.column} {c.before or 'missing'} -> {c.after}" for c in changes)
            + " (deploy evolves it in place)"
        )
    else:
        check = "schema matches the contract"
    return [(item, f"{have.live.rows} rows, {have.live.shape.partition_text}, {check}")]
