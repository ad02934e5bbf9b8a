"""Read access for people and Grafana: Lake Formation grants to each principal of the `readers` setting.

Each reader gets, in the table bucket's catalog (``ACCOUNT:s3tablescatalog/BUCKET`` inside ``Resource``, as
grants.py): DESCRIBE on the namespace, and SELECT and DESCRIBE on each of the env's tables, its signals'
and the kept ones. What a reader needs on top (the Athena workgroup and its results, Glue's reads,
``lakeformation:GetDataAccess``, the S3 Tables reads `doit query` makes) is the stack's managed policy
(output ReadersPolicyArn), which users attach to their readers' roles: the tool never edits them.

What the tool granted: Lake Formation records no grantor, so the tool keeps the principals it granted to in
the SSM parameter ``/otlp2pipeline/ENV/readers`` (readers_record.py), written before it grants and after it
revokes. A principal of the record that left `readers` loses exactly the tool's permission sets where it
holds them: DESCRIBE on the namespace, SELECT and DESCRIBE on the env's tables. ALL, ALTER, grant options,
other databases and tables, and every principal never in the record are left as they are. (A SELECT
someone else also granted to that principal on those tables cannot be told apart and goes too.)

Observed: the record (one ``ssm:GetParameter``), the kept tables from the namespace's listing kept_tables.py
reads (shared through ctx.memo), and each principal's grants from the Lake Formation listing grants.py reads
(lf_permissions.py, shared): a converged env costs the one read of the record and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tasks.errors import StepFailed, UserError
from tasks.settings import child_catalog_id
from tasks.step import Action, Change, Context, Diff, Outcome, Result
from tasks.steps import kept_tables, lf_permissions, readers_record, table_listing
from tasks.steps.grants import Grant

NAME = "readers"
POLICY_OUTPUT = "ReadersPolicyArn"
ON_DATABASE = ("DESCRIBE",)
ON_TABLE = ("SELECT", "DESCRIBE")


@dataclass(frozen=True)
class Desired:
    readers: tuple[str, ...]
    catalog: str  # ACCOUNT:s3tablescatalog/BUCKET
    namespace: str
    signals: tuple[str, ...]
    drop: tuple[str, ...]  # kept tables this deploy deletes (kept_tables.py): no grant on them
    record_name: str = ""  # the SSM parameter naming the principals deploy granted to


@dataclass(frozen=True)
class Observed:
    record: tuple[str, ...] | None  # None: no record parameter
    kept: tuple[str, ...]  # the namespace's tables of signals that left the config
    held: dict[str, dict[tuple[str, ...], frozenset[str]]]  # principal -> resource key -> permissions
    configured: tuple[str, ...] = ()  # the readers setting, for the report
    policy_arn: str = ""  # the stack's ReadersPolicyArn output, once the stack exists


@dataclass(frozen=True)
class Revoke:
    principal: str
    key: tuple[str, ...]
    permissions: tuple[str, ...]
    reason: str

    @property
    def resource(self) -> dict[str, Any]:
        if self.key[0] == "database":
            return {"Database": {"CatalogId": self.key[1], "Name": self.key[2]}}
        return {"Table": {"CatalogId": self.key[1], "DatabaseName": self.key[2], "Name": self.key[3]}}

    @property
    def label(self) -> str:
        if self.key[0] == "database":
            return f"database {self.key[2]}"
        return f"table {self.key[2]}.{self.key[3]}"


@dataclass
class Work:
    """What deploy does, read from (desired, observed) by one pure function: diff and apply both use it."""

    grants: list[tuple[str, Grant]] = field(default_factory=list)
    revokes: list[Revoke] = field(default_factory=list)
    record: tuple[tuple[str, ...] | None, tuple[str, ...] | None] | None = None  # (observed, desired)


def check_accounts(readers: tuple[str, ...], account_id: str) -> None:
    """Lake Formation grants here name principals of the env's own account; another account's principal
    is reached through Lake Formation's cross-account sharing (AWS RAM), which the tool does not set up.
    Checked right after GetCallerIdentity, before any other call."""
    for i, arn in enumerate(readers):
        other = arn.split(":")[4]
        if other != account_id:
            raise UserError(
                f"error: readers[{i}]={arn!r} is in account {other}, not the env's account {account_id}: "
                "readers must be IAM roles or users of the env's account (another account reads through "
                "Lake Formation's cross-account sharing, which the tool does not set up)"
            )


def desired(ctx: Context) -> Desired:
    cfg = ctx.config
    return Desired(
        tuple(cfg.readers),
        child_catalog_id(ctx.account_id, cfg.table_bucket_name),
        cfg.namespace,
        tuple(cfg.signals),
        ctx.options.drop,
        cfg.readers_record_name,
    )


def tables_of(want: Desired, have: Observed) -> tuple[str, ...]:
    """The tables a reader reads: the signals', then the kept ones deploy does not drop."""
    return (*want.signals, *(t for t in have.kept if t not in want.drop))


def wanted(want: Desired, have: Observed) -> list[Grant]:
    database = Grant({"Database": {"CatalogId": want.catalog, "Name": want.namespace}}, ON_DATABASE)
    tables = [
        Grant({"Table": {"CatalogId": want.catalog, "DatabaseName": want.namespace, "Name": t}}, ON_TABLE)
        for t in tables_of(want, have)
    ]
    return [database, *tables]


def observe(ctx: Context) -> Observed:
    want = desired(ctx)
    record = readers_record.read(ctx)
    kept = tuple(kept_tables.kept_names(ctx.config, table_listing.listed(ctx)))
    # Every resource a reader may hold the tool's grants on: the namespace and each existing table.
    every = Observed(record, kept, {})
    resources = [g.resource for g in wanted(_keep_all(want), every)]
    fresh = ctx.facts.stack_created  # its namespace and tables are new: nobody holds a grant on them yet
    held = {}
    for principal in sorted(set(want.readers) | set(record or ())):
        found = lf_permissions.held_on(ctx, principal, resources, confirm=not fresh)
        held[principal] = {k: frozenset(perms) for k, (perms, _) in found.items()}
    policy = ctx.facts.stack_outputs.get(POLICY_OUTPUT, "")
    return Observed(record, kept, held, tuple(want.readers), policy)


def _keep_all(want: Desired) -> Desired:
    return Desired(want.readers, want.catalog, want.namespace, want.signals, (), want.record_name)


def revoke_all(ctx: Context) -> Diff[Desired, Observed] | None:
    """What a deploy with no readers would revoke (every recorded or configured reader's grants from the
    tool, and the record): destroy's part (readers_teardown.py); None when there is nothing."""
    have = observe(ctx)
    if not have.record and not any(have.held.values()):
        return None
    d = diff(replace(desired(ctx), readers=()), have)
    d.desired, d.observed = replace(desired(ctx), readers=()), have
    return d if d.changes else None


def _in_scope(want: Desired, key: tuple[str, ...], tables: tuple[str, ...]) -> tuple[str, ...]:
    """The tool's permission set on `key` when `key` is one of the env's resources a reader is given."""
    if key[:3] == ("database", want.catalog, want.namespace):
        return ON_DATABASE
    if key[0] == "table" and key[1:3] == (want.catalog, want.namespace) and key[3] in tables:
        return ON_TABLE
    return ()


def work(want: Desired, have: Observed) -> Work:
    """The grants to make, the grants to revoke and the record's change, in that order."""
    out = Work()
    grants = wanted(want, have)
    for reader in want.readers:
        held = have.held.get(reader, {})
        out.grants += [
            (reader, g)
            for g in grants
            if lf_permissions.missing(set(g.permissions), set(held.get(g.key, frozenset())))
        ]
    existing = (*want.signals, *have.kept)
    dropped = tuple(t for t in have.kept if t in want.drop)
    for principal in sorted(have.held):
        gone = principal not in want.readers
        scope = existing if gone else dropped  # a reader keeps its grants on the tables it still reads
        for key, perms in sorted(have.held[principal].items()):
            take = tuple(p for p in _in_scope(want, key, scope) if p in perms)
            if take and (gone or key[0] == "table"):
                why = "no longer in readers" if gone else f"drop={key[3]} deletes the table"
                out.revokes.append(Revoke(principal, key, take, why))
    record = tuple(sorted(want.readers)) or None
    if record != (tuple(sorted(have.record)) if have.record else None):
        out.record = (have.record, record)
    return out


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    todo = work(want, have)
    changes = [
        Change(
            "create",
            f"lake formation grant {','.join(g.permissions)} on {g.label} to reader {reader}",
            {"Permissions": (sorted(have.held.get(reader, {}).get(g.key, ())), list(g.permissions))},
        )
        for reader, g in todo.grants
    ]
    changes += [
        Change(
            "delete",
            f"lake formation grant {','.join(r.permissions)} on {r.label} to {r.principal}",
            {"Permissions": (sorted(have.held[r.principal][r.key]), [])},
            reason=r.reason,
        )
        for r in todo.revokes
    ]
    if todo.record is not None:
        old, new = todo.record
        action: Action = "create" if old is None else ("delete" if new is None else "update")
        changes.append(
            Change(
                action,
                f"ssm parameter {want.record_name} (the principals deploy granted read access to)",
                {"Value": (list(old or ()), list(new or ()))},
            )
        )
    return Diff(changes)


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want, have = d.desired, d.observed
    todo = work(want, have)
    current = tuple(sorted(have.record)) if have.record else None
    adding = sorted(set(want.readers) | set(current or ()))
    if set(want.readers) - set(current or ()):  # recorded first: a run that fails later still knows them
        readers_record.write(ctx, adding, exists=current is not None)
        current = tuple(adding)
    _batch(ctx, "grant", [_entry(r, g.resource, g.permissions) for r, g in todo.grants])
    _batch(ctx, "revoke", [_entry(r.principal, r.resource, r.permissions) for r in todo.revokes])
    final = tuple(sorted(want.readers)) or None
    if final != current:
        if final is None:
            readers_record.delete(ctx)
        else:
            readers_record.write(ctx, list(final), exists=current is not None)
    if todo.grants or todo.revokes:
        ctx.forget(lf_permissions.MEMO_KEY)
    details = [f"granted {','.join(g.permissions)} on {g.label} to {r}" for r, g in todo.grants]
    details += [f"revoked {','.join(r.permissions)} on {r.label} from {r.principal}" for r in todo.revokes]
    if todo.record is not None:
        details.append(f"recorded readers: {', '.join(sorted(want.readers)) or 'none'}")
    result: Result = "updated"
    if todo.grants and not todo.revokes:
        result = "created"
    elif todo.revokes and not todo.grants:
        result = "deleted"
    return Outcome(result, details)


def _entry(principal: str, resource: dict[str, Any], permissions: tuple[str, ...]) -> dict[str, Any]:
    return {
        "Principal": {"DataLakePrincipalIdentifier": principal},
        "Resource": resource,
        "Permissions": list(permissions),
    }


def _batch(ctx: Context, verb: str, entries: list[dict[str, Any]]) -> None:
    """Batch{Grant,Revoke}Permissions, 20 entries a call; the first failure names the principal and why."""
    lf = ctx.clients.lakeformation
    call = lf.batch_grant_permissions if verb == "grant" else lf.batch_revoke_permissions
    for i in range(0, len(entries), lf_permissions.BATCH):
        chunk = [{"Id": str(n), **e} for n, e in enumerate(entries[i : i + lf_permissions.BATCH])]
        failures = call(Entries=chunk).get("Failures", [])
        if failures:
            entry, error = failures[0].get("RequestEntry") or {}, failures[0].get("Error") or {}
            who = entry.get("Principal", {}).get("DataLakePrincipalIdentifier", "?")
            hint = (
                ": the reader must name an existing IAM role or user, path included"
                if verb == "grant" and error.get("ErrorCode") == "InvalidInputException"
                else ""
            )
            raise StepFailed(
                f"error: Lake Formation refused to {verb} read access {'to' if verb == 'grant' else 'of'} "
                f"{who}: {error.get('ErrorCode')}: {error.get('ErrorMessage', '')}{hint}"
            )


def _summary(held: dict[tuple[str, ...], frozenset[str]]) -> str:
    parts: list[str] = []
    by_perms: dict[str, list[str]] = {}
    for key, perms in sorted(held.items()):
        if key[0] == "database":
            parts.append(f"database {key[2]}: {', '.join(sorted(perms))}")
        elif key[0] == "table":
            by_perms.setdefault(", ".join(sorted(perms)), []).append(key[3])
    parts += [f"tables {', '.join(names)}: {perms}" for perms, names in sorted(by_perms.items())]
    return "; ".join(parts) or "no grants"


def report(have: Observed) -> list[tuple[str, str]]:
    rows = [(f"reader {p}", _summary(have.held.get(p, {}))) for p in have.configured]
    rows += [
        (f"former reader {p}", f"{_summary(have.held.get(p, {}))} (no longer in readers)")
        for p in sorted(set(have.record or ()) - set(have.configured))
    ]
    if have.policy_arn:
        rows.append(("readers policy", f"{have.policy_arn} (attach it to each reader's role or user)"))
    return rows or [("readers", "none")]
