"""Lake Formation on Glue's reads of a table bucket's child catalog: GetDatabase(s) and GetTable(s).

Lake Formation's metadata permissions ("Metadata permissions", Lake Formation developer guide): Glue
returns only the metadata the caller holds permissions on. Here a principal sees a table it holds any
permission on (DESCRIBE, SELECT, ALL, ..., directly or through a TableWildcard grant), and a database it
holds any permission on, itself or on one of its tables. GetTables and GetDatabases list only those;
GetTable and GetDatabase of one it cannot see answer ``AccessDeniedException`` "Insufficient Lake
Formation permission(s) on NAME", whether it exists or not: Lake Formation does not tell a principal what
exists where it may not look. Data lake admins and read-only admins see everything (their implicit
DESCRIBE), and get ``EntityNotFoundException`` for what is missing.

Not governed: a ``s3tablescatalog`` whose default permissions name ``IAM_ALLOWED_PRINCIPALS`` (IAM access
control mode: IAM policies decide, and the local AWS evaluates none for Glue).

The principal is the one the request's credentials act as (emulator/admin/identity.py: the default user,
the identity the admin API set, the role behind STS credentials, an IAM user's key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core.registry import OverrideRequest
from emulator.glue.exceptions import AccessDeniedException

IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS"


@dataclass(frozen=True)
class Authority:
    """Lake Formation's answers Glue asks for: what a principal holds on a resource, and who is an admin.
    Lake Formation sits above Glue (it resolves Glue's catalogs), so it hands these in as it is imported
    (emulator/lakeformation/__init__.py) rather than Glue importing it."""

    permissions_on: Callable[[str, str, str, dict[str, Any]], set[str]]
    is_admin: Callable[[str, str, str], bool]


_authority: list[Authority] = []


def set_authority(authority: Authority) -> None:
    _authority[:] = [authority]


def _lake_formation() -> Authority:
    if not _authority:
        raise RuntimeError("Lake Formation is not loaded: emulator/app.py imports emulator.lakeformation")
    return _authority[0]


class Reader:
    """Who asks, and what they may see, in one child catalog (``ACCOUNT:s3tablescatalog/BUCKET``)."""

    def __init__(self, req: OverrideRequest, catalog_id: str) -> None:
        from emulator.admin.identity import request_principal

        self.account, self.region, self.catalog_id = req.account_id, req.region, catalog_id
        self.principal = request_principal(req)
        self.all = not _governed(req.account_id, req.region) or _lake_formation().is_admin(
            req.account_id, req.region, self.principal
        )

    def _holds(self, resource: dict[str, Any]) -> bool:
        holds = _lake_formation().permissions_on(self.account, self.region, self.principal, resource)
        return bool(holds)

    def sees_table(self, database: str, table: str) -> bool:
        resource = {"Table": {"CatalogId": self.catalog_id, "DatabaseName": database, "Name": table}}
        return self.all or self._holds(resource)

    def sees_database(self, database: str, tables: list[str]) -> bool:
        if self.all or self._holds({"Database": {"CatalogId": self.catalog_id, "Name": database}}):
            return True
        return any(self.sees_table(database, t) for t in tables)

    def require_table(self, database: str, table: str) -> None:
        if not self.sees_table(database, table):
            raise denied(table)

    def require_database(self, database: str, tables: list[str]) -> None:
        if not self.sees_database(database, tables):
            raise denied(database)


def denied(name: str) -> AccessDeniedException:
    return AccessDeniedException(f"Insufficient Lake Formation permission(s) on {name}")


def _governed(account_id: str, region: str) -> bool:
    """The s3tablescatalog is in Lake Formation mode: no default permission for IAM_ALLOWED_PRINCIPALS."""
    from emulator.glue.models import S3TABLES_CATALOG, get_catalog

    cat = get_catalog(account_id, region, S3TABLES_CATALOG)
    if cat is None:
        return True
    defaults = [
        *(cat.catalog_input.get("CreateDatabaseDefaultPermissions") or []),
        *(cat.catalog_input.get("CreateTableDefaultPermissions") or []),
    ]
    return not any(
        (d.get("Principal") or {}).get("DataLakePrincipalIdentifier") == IAM_ALLOWED
        for d in defaults
        if isinstance(d, dict)
    )
