"""Reading Lake Formation permissions once per run, shared by catalog_grant and grants.

ListPermissions refuses a Principal filter without a Resource ("Resource is mandatory if Principal is
set"), and a per-resource listing would cost one call per table; one unfiltered, paginated listing
covers the catalog grant and every table grant of the env in one call on a quiet account.
"""

from __future__ import annotations

from typing import Any

from tasks.step import Context

MEMO_KEY = "lf_permissions"


def _list_all(ctx: Context) -> list[dict[str, Any]]:
    lf = ctx.clients.lakeformation
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"MaxResults": 1000}
    while True:
        page = lf.list_permissions(**kwargs)
        out.extend(page.get("PrincipalResourcePermissions", []))
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def all_permissions(ctx: Context) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ctx.memo(MEMO_KEY, lambda: _list_all(ctx))
    return result


def resource_key(resource: dict[str, Any]) -> tuple[str, ...] | None:
    """A hashable name for the resource kinds this tool grants on (catalog, database, table)."""
    if "Catalog" in resource:
        return ("catalog", str(resource["Catalog"].get("Id", "")))
    if "Database" in resource:
        db = resource["Database"]
        return ("database", str(db.get("CatalogId", "")), str(db.get("Name", "")))
    if "Table" in resource:
        t = resource["Table"]
        return ("table", str(t.get("CatalogId", "")), str(t.get("DatabaseName", "")), str(t.get("Name", "")))
    return None


def held(ctx: Context, principal: str) -> dict[tuple[str, ...], tuple[set[str], set[str]]]:
    """resource key -> (permissions, permissions with grant option) the principal holds."""
    out: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for entry in all_permissions(ctx):
        if entry.get("Principal", {}).get("DataLakePrincipalIdentifier") != principal:
            continue
        key = resource_key(entry.get("Resource", {}))
        if key is None:
            continue
        perms, grant = out.setdefault(key, (set(), set()))
        perms.update(entry.get("Permissions", []))
        grant.update(entry.get("PermissionsWithGrantOption", []))
    return out


def missing(wanted: set[str], have: set[str]) -> set[str]:
    """ALL covers every permission on the same resource."""
    return set() if "ALL" in have else wanted - have
