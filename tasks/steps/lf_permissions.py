"""Reading Lake Formation permissions once per run, shared by catalog_grant and grants.

ListPermissions refuses a Principal filter without a Resource ("Resource is mandatory if Principal is
set"), and a per-resource listing costs one call per table; one unfiltered, paginated listing covers the
catalog grant and every table grant of the env in one call on a quiet account.

AWS does not document whether that account-wide listing includes grants inside the S3 Tables child
catalogs (``ACCOUNT:s3tablescatalog/BUCKET``). So a grant the listing does not show is confirmed with the
documented per-resource read (Principal + Resource) before it is called missing, unless the resource was
created in this run and can hold no grant yet. Either way a converged env makes no write; if the listing
does include them (as in the local AWS), a converged env costs no extra read either.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context

MEMO_KEY = "lf_permissions"
BATCH = 20  # entries per BatchGrantPermissions / BatchRevokePermissions call


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


def _list_on(ctx: Context, principal: str, resource: dict[str, Any]) -> list[dict[str, Any]]:
    lf = ctx.clients.lakeformation
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "Principal": {"DataLakePrincipalIdentifier": principal},
        "Resource": resource,
    }
    while True:
        try:
            page = lf.list_permissions(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":  # the resource itself is not there yet
                return out
            raise
        out.extend(page.get("PrincipalResourcePermissions", []))
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def entries_of(
    ctx: Context, principal: str, resources: list[dict[str, Any]], *, confirm: bool = True
) -> list[dict[str, Any]]:
    """The principal's entries in the one listing, plus (if `confirm`) one per-resource read for each of
    `resources` the listing shows nothing on."""
    found = [
        e
        for e in all_permissions(ctx)
        if e.get("Principal", {}).get("DataLakePrincipalIdentifier") == principal
    ]
    if not confirm:
        return found
    seen = {resource_key(e.get("Resource", {})) for e in found}
    for resource in resources:
        key = resource_key(resource)
        if key is not None and key not in seen:
            confirmed = _list_on(ctx, principal, resource)
            found += [e for e in confirmed if resource_key(e.get("Resource", {})) == key]
    return found


def held_on(
    ctx: Context, principal: str, resources: list[dict[str, Any]], *, confirm: bool
) -> dict[tuple[str, ...], tuple[set[str], set[str]]]:
    """resource key -> (permissions, permissions with grant option) the principal holds (see entries_of)."""
    out: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for entry in entries_of(ctx, principal, resources, confirm=confirm):
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
