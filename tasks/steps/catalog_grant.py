"""Account setup: the caller's Lake Formation permissions on the `s3tablescatalog` catalog.

The same permissions the bash scripts grant (ALL, DESCRIBE, CREATE_DATABASE, ALTER, DROP, each with grant
option); only the missing ones are granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.aws import Principal
from tasks.step import Action, Change, Context, Diff, Outcome
from tasks.steps import lf_permissions
from tasks.steps.catalog import CATALOG_NAME

NAME = "catalog_grant"
PERMISSIONS = ("ALL", "DESCRIBE", "CREATE_DATABASE", "ALTER", "DROP")


@dataclass(frozen=True)
class Desired:
    principal: Principal
    resource: dict[str, Any]
    permissions: tuple[str, ...] = PERMISSIONS
    grantable: tuple[str, ...] = PERMISSIONS


@dataclass(frozen=True)
class Observed:
    permissions: frozenset[str]
    grantable: frozenset[str]


def catalog_resource(account_id: str) -> dict[str, Any]:
    return {"Catalog": {"Id": f"{account_id}:{CATALOG_NAME}"}}


def desired(ctx: Context) -> Desired:
    return Desired(ctx.clients.caller_principal, catalog_resource(ctx.account_id))


def observe(ctx: Context) -> Observed:
    resource = catalog_resource(ctx.account_id)
    fresh = ctx.facts.catalog_created  # made in this run: no grant on it yet
    held = lf_permissions.held_on(ctx, ctx.clients.caller_principal.arn, [resource], confirm=not fresh)
    key = lf_permissions.resource_key(resource)
    perms, grant = held.get(key, (set(), set())) if key else (set(), set())
    return Observed(frozenset(perms), frozenset(grant))


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    need = sorted(set(want.permissions) - have.permissions)
    need_grant = sorted(set(want.grantable) - have.grantable)
    if not need and not need_grant:
        return Diff()
    fields: dict[str, tuple[Any, Any]] = {}
    if need:
        fields["Permissions"] = (sorted(have.permissions), sorted(want.permissions))
    if need_grant:
        fields["PermissionsWithGrantOption"] = (sorted(have.grantable), sorted(want.grantable))
    action: Action = "create" if not have.permissions else "update"
    return Diff(
        [
            Change(
                action,
                f"lake formation grant to {want.principal} on catalog {want.resource['Catalog']['Id']}",
                fields,
            )
        ]
    )


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    ctx.clients.lakeformation.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": want.principal.arn},
        Resource=want.resource,
        Permissions=list(want.permissions),
        PermissionsWithGrantOption=list(want.grantable),
    )
    ctx.forget(lf_permissions.MEMO_KEY)
    return Outcome(
        "created" if d.changes[0].action == "create" else "updated",
        [f"granted {', '.join(want.permissions)} on {want.resource['Catalog']['Id']}"],
    )


def report(have: Observed) -> list[tuple[str, str]]:
    return [("catalog grant", ", ".join(sorted(have.permissions)) or "none")]
