"""Lake Formation grants to the stack's Firehose role: DESCRIBE on the namespace, ALL on each table.

The S3 Tables child catalog id (ACCOUNT:s3tablescatalog/BUCKET) goes INSIDE each Resource; the
top-level CatalogId only accepts an account id. Only missing grants are sent, in one batch. The role's
grants on a table of the namespace whose signal left the config (a kept table) are revoked: nothing
delivers there any more, and the table itself is kept (kept_tables.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import StepFailed
from tasks.facts import ROLE_OUTPUT
from tasks.polling import backoff_delays
from tasks.settings import child_catalog_id
from tasks.step import Change, Context, Diff, Outcome, Teardown
from tasks.steps import lf_permissions, stack_teardown

NAME = "grants"
# How a plan names the stack's Firehose role before the stack exists (the role is None until then).
PENDING_ROLE = "<FirehoseRoleArn, known once the stack exists>"
# A role CloudFormation just created can be unknown to Lake Formation for a few seconds.
NOT_YET = ("InvalidInputException", "EntityNotFoundException")


@dataclass(frozen=True)
class Grant:
    resource: dict[str, Any]
    permissions: tuple[str, ...]

    @property
    def key(self) -> tuple[str, ...]:
        key = lf_permissions.resource_key(self.resource)
        assert key is not None
        return key

    @property
    def label(self) -> str:
        if "Database" in self.resource:
            return f"database {self.resource['Database']['Name']}"
        return f"table {self.resource['Table']['DatabaseName']}.{self.resource['Table']['Name']}"


@dataclass(frozen=True)
class Desired:
    principal: str | None  # the stack's Firehose role; None until the stack exists
    grants: tuple[Grant, ...]

    @property
    def named(self) -> str:
        return self.principal or PENDING_ROLE


@dataclass(frozen=True)
class Observed:
    principal: str | None
    held: dict[tuple[str, ...], frozenset[str]]
    grantable: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict)  # with grant option


def firehose_role(ctx: Context) -> str | None:
    """The stack's Firehose role, or None while the stack is not read (plan before the first deploy)."""
    return ctx.facts.firehose_role_arn


def desired(ctx: Context) -> Desired:
    cfg = ctx.config
    cat = child_catalog_id(ctx.account_id, cfg.table_bucket_name)
    grants = [Grant({"Database": {"CatalogId": cat, "Name": cfg.namespace}}, ("DESCRIBE",))]
    grants += [
        Grant({"Table": {"CatalogId": cat, "DatabaseName": cfg.namespace, "Name": s}}, ("ALL",))
        for s in cfg.signals
    ]
    return Desired(firehose_role(ctx), tuple(grants))


def observe(ctx: Context) -> Observed:
    principal = firehose_role(ctx)
    if principal is None:
        return Observed(None, {})
    resources = [g.resource for g in desired(ctx).grants]
    fresh = ctx.facts.stack_created  # its tables were made in this run: no grant yet
    held = lf_permissions.held_on(ctx, principal, resources, confirm=not fresh)
    return Observed(
        principal,
        {k: frozenset(p) for k, (p, _) in held.items()},
        {k: frozenset(g) for k, (_, g) in held.items()},
    )


def stale_tables(want: Desired, have: Observed) -> list[tuple[str, ...]]:
    """Keys of the role's table grants in the env's namespace that the config no longer asks for."""
    namespace = want.grants[0].key  # ("database", CATALOG, NAMESPACE)
    wanted = {g.key for g in want.grants}
    return sorted(
        k
        for k in have.held
        if k[0] == "table" and k[1:3] == namespace[1:3] and k not in wanted and have.held[k]
    )


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    changes = []
    for grant in want.grants:
        has = have.held.get(grant.key, frozenset())
        need = lf_permissions.missing(set(grant.permissions), set(has))
        if need:
            changes.append(
                Change(
                    "create",
                    f"lake formation grant {','.join(grant.permissions)} on {grant.label} to {want.named}",
                    {"Permissions": (sorted(has), list(grant.permissions))},
                )
            )
    for key in stale_tables(want, have):
        changes.append(
            Change(
                "delete",
                f"lake formation grant {','.join(sorted(have.held[key]))} on table {key[2]}.{key[3]} to "
                f"{want.named}",
                {"Permissions": (sorted(have.held[key]), [])},
                reason="its signal is no longer enabled; the table is kept",
            )
        )
    return Diff(changes)


def missing_grants(want: Desired, have: Observed) -> list[Grant]:
    return [
        g
        for g in want.grants
        if lf_permissions.missing(set(g.permissions), set(have.held.get(g.key, frozenset())))
    ]


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    if want.principal is None:
        # Deploy evaluated this step before the stack existed (doit -a or a plan-only run).
        want = desired(ctx)
    principal = want.principal
    if principal is None:
        raise StepFailed(
            f"error: stack {ctx.config.stack_name} has no {ROLE_OUTPUT} output: run `doit deploy` "
            "again once the stack is complete"
        )
    todo = missing_grants(want, d.observed) if d.observed.principal == want.principal else list(want.grants)
    revoked = _revoke(ctx, want, d.observed) if d.observed.principal == want.principal else []
    entries = [
        {
            "Id": str(i),
            "Principal": {"DataLakePrincipalIdentifier": principal},
            "Resource": g.resource,
            "Permissions": list(g.permissions),
        }
        for i, g in enumerate(todo)
    ]
    delays = backoff_delays(60.0, first=0.5)
    while entries:
        failures = ctx.clients.lakeformation.batch_grant_permissions(Entries=entries).get("Failures", [])
        failed_ids = {f["RequestEntry"]["Id"] for f in failures if f.get("RequestEntry")}
        codes = {f.get("Error", {}).get("ErrorCode", "") for f in failures}
        entries = [e for e in entries if e["Id"] in failed_ids]
        if not entries:
            break
        delay = next(delays, None)
        if not codes <= set(NOT_YET) or delay is None:
            first = failures[0].get("Error", {})
            raise StepFailed(
                f"error: Lake Formation refused {len(entries)} grant(s) to {principal}: "
                f"{first.get('ErrorCode')}: {first.get('ErrorMessage', '')}"
            )
        time.sleep(delay)
    ctx.forget(lf_permissions.MEMO_KEY)
    details = [f"granted {', '.join(g.permissions)} on {g.label}" for g in todo] + revoked
    return Outcome("created" if not revoked else ("deleted" if not todo else "updated"), details)


def _revoke(ctx: Context, want: Desired, have: Observed) -> list[str]:
    """Revoke the role's grants on tables whose signal left the config (one batch)."""
    keys = stale_tables(want, have)
    entries = [
        {
            "Id": str(i),
            "Principal": {"DataLakePrincipalIdentifier": want.principal},
            "Resource": {"Table": {"CatalogId": k[1], "DatabaseName": k[2], "Name": k[3]}},
            "Permissions": sorted(have.held[k]),
            "PermissionsWithGrantOption": sorted(have.grantable.get(k, frozenset())),
        }
        for i, k in enumerate(keys)
    ]
    if entries:
        failures = ctx.clients.lakeformation.batch_revoke_permissions(Entries=entries).get("Failures", [])
        if failures:
            first = failures[0].get("Error", {})
            raise StepFailed(
                f"error: Lake Formation refused to revoke {len(failures)} grant(s) of {want.principal}: "
                f"{first.get('ErrorCode')}: {first.get('ErrorMessage', '')}"
            )
    return [f"revoked {', '.join(sorted(have.held[k]))} on table {k[2]}.{k[3]}" for k in keys]


def report(have: Observed) -> list[tuple[str, str]]:
    if have.principal is None:
        return [("firehose role grants", "stack missing")]
    return [(f"grant {' '.join(k[2:])}", ", ".join(sorted(p))) for k, p in sorted(have.held.items())]


# -- destroy: the role's grants go after its streams, before the stack (tasks/destroy.py) -------------------


@dataclass(frozen=True)
class Held:
    """The stack's Firehose role and its grants on the table bucket's namespaces and tables."""

    role: str
    entries: tuple[dict[str, Any], ...]


def teardown_find(ctx: Context) -> Held | None:
    role = stack_teardown.role_arn(ctx)
    if not role:
        return None
    contents = stack_teardown.bucket_contents(ctx)
    catalog = child_catalog_id(ctx.account_id, ctx.config.table_bucket_name)
    resources: list[dict[str, Any]] = []
    if contents is not None:
        resources += [{"Database": {"CatalogId": catalog, "Name": ns}} for ns in contents.namespaces]
        resources += [
            {"Table": {"CatalogId": catalog, "DatabaseName": ns, "Name": t}} for ns, t in contents.tables
        ]
    entries = lf_permissions.entries_of(ctx, role, resources)
    return Held(role, tuple(entries)) if entries else None


def teardown_lines(held: Held) -> list[str]:
    return [f"{len(held.entries)} Lake Formation grant(s) to {held.role}"]


def teardown_delete(ctx: Context, held: Held) -> None:
    entries = [
        {
            "Id": str(i),
            "Principal": g["Principal"],
            "Resource": g["Resource"],
            "Permissions": g.get("Permissions", []),
            "PermissionsWithGrantOption": g.get("PermissionsWithGrantOption", []),
        }
        for i, g in enumerate(held.entries)
    ]
    for i in range(0, len(entries), 20):
        ctx.clients.lakeformation.batch_revoke_permissions(Entries=entries[i : i + 20])
    ctx.say(f"revoked {len(entries)} Lake Formation grant(s) of {held.role}")


TEARDOWN: Teardown[Held] = Teardown(teardown_find, teardown_lines, teardown_delete)
