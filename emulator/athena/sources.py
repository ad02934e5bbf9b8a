"""The tables a query reads, named as Athena names them, found in S3 Tables and checked against Lake
Formation for the caller.

Athena queries a table bucket through its catalog ``s3tablescatalog/BUCKET`` (the federated Glue catalog's
child): ``"s3tablescatalog/BUCKET"."NAMESPACE"."TABLE"``, ``NAMESPACE.TABLE`` in the context's catalog, or
``TABLE`` in the context's catalog and database (``QueryExecutionContext``; Athena's defaults are
``AwsDataCatalog`` and ``default``, where the local AWS has no tables). Names are case-insensitive.

Lake Formation, per table read, for the principal the request's credentials act as: a grant on the
namespace (``DESCRIBE`` or ``ALL``), else "Iceberg cannot access the requested resource" (the S3 Tables
guide's error for a missing catalog or database grant), and ``SELECT`` (or ``ALL``) on the table, else
"Insufficient permissions to execute the query. Principal does not have any privilege on specified
resource" (the S3 Tables guide's Athena error). Data lake admins get no implicit ``SELECT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.athena.dialect import QueryFailure, TableName
from emulator.core.exceptions import AwsError

DEFAULT_CATALOG = "awsdatacatalog"
DEFAULT_DATABASE = "default"
S3TABLES_PREFIX = "s3tablescatalog/"
NOT_FOUND_TABLE = 1110  # Athena ErrorType: "Provided table or view does not exist"
NOT_FOUND_ENTITY = 1301  # "General entity not found"
PERMISSION = 1500  # "Permission error"
NO_TABLE_GRANT = (
    "Insufficient permissions to execute the query. Principal does not have any privilege on specified "
    "resource"
)
NO_DATABASE_GRANT = "Iceberg cannot access the requested resource"


@dataclass(frozen=True)
class Source:
    """One table to read: its Athena name and where its current Iceberg metadata is."""

    catalog: str  # s3tablescatalog/BUCKET
    namespace: str
    table: str
    metadata_location: str

    @property
    def warehouse(self) -> str:
        return self.metadata_location.rsplit("/metadata/", 1)[0] + "/"


@dataclass(frozen=True)
class Context:
    catalog: str
    database: str

    @classmethod
    def of(cls, context: dict[str, Any] | None) -> Context:
        ctx = context or {}
        return cls(
            str(ctx.get("Catalog") or DEFAULT_CATALOG).lower(),
            str(ctx.get("Database") or DEFAULT_DATABASE).lower(),
        )


def full_name(context: Context, name: TableName) -> tuple[str, str, str]:
    parts = name.parts
    if len(parts) >= 3:
        return parts[-3], parts[-2], parts[-1]
    if len(parts) == 2:
        return context.catalog, parts[0], parts[1]
    return context.catalog, context.database, parts[0]


def table_bucket(account_id: str, region: str, catalog: str) -> Any | None:
    """The table bucket behind ``s3tablescatalog/BUCKET`` (the federated catalog must exist), or None."""
    if not catalog.startswith(S3TABLES_PREFIX):
        return None
    from emulator.glue import models as glue_catalogs

    try:
        _parent, bucket = glue_catalogs.resolve(account_id, region, f"{account_id}:{catalog}")
    except AwsError:
        return None
    return bucket


def resolve(
    account_id: str, region: str, principal: str, context: Context, names: tuple[TableName, ...]
) -> list[Source]:
    """Each table the query names, once; QueryFailure for the first that is missing or not granted."""
    out: dict[tuple[str, str, str], Source] = {}
    for name in names:
        catalog, namespace, table = full_name(context, name)
        if (catalog, namespace, table) in out:
            continue
        where = f"line {name.line}:{name.col}"
        shown = f"{catalog}.{namespace}.{table}"
        bucket = table_bucket(account_id, region, catalog)
        if bucket is None and catalog.startswith(S3TABLES_PREFIX):
            raise QueryFailure(
                "CATALOG_NOT_FOUND", f"{where}: Catalog '{catalog}' does not exist", NOT_FOUND_ENTITY
            )
        ns = bucket.namespaces.get(namespace) if bucket is not None else None
        if bucket is not None and ns is None:
            raise QueryFailure(
                "SCHEMA_NOT_FOUND", f"{where}: Schema '{namespace}' does not exist", NOT_FOUND_ENTITY
            )
        moto_table = ns.tables.get(table) if ns is not None else None
        if bucket is None or moto_table is None:
            raise QueryFailure("TABLE_NOT_FOUND", f"{where}: Table '{shown}' does not exist", NOT_FOUND_TABLE)
        _check_grants(account_id, region, principal, catalog, namespace, table)
        location = _metadata_location(bucket.arn, namespace, table)
        if location is None:
            raise QueryFailure(
                "ICEBERG_INVALID_METADATA",
                f"{where}: Table '{shown}' has no Iceberg metadata (no schema was ever committed)",
                NOT_FOUND_TABLE,
            )
        out[(catalog, namespace, table)] = Source(catalog, namespace, table, location)
    return list(out.values())


def _metadata_location(bucket_arn: str, namespace: str, table: str) -> str | None:
    from emulator.iceberg.store import get_store

    store = get_store()
    if not store.exists(bucket_arn, namespace, table):
        return None
    return store.metadata_location(bucket_arn, namespace, table)


def _check_grants(
    account_id: str, region: str, principal: str, catalog: str, namespace: str, table: str
) -> None:
    from emulator.lakeformation.models import has_permission

    catalog_id = f"{account_id}:{catalog}"
    database = {"Database": {"CatalogId": catalog_id, "Name": namespace}}
    if not has_permission(account_id, region, principal, database, "DESCRIBE"):  # ALL implies it
        raise QueryFailure("", NO_DATABASE_GRANT, PERMISSION)
    resource = {"Table": {"CatalogId": catalog_id, "DatabaseName": namespace, "Name": table}}
    if not has_permission(account_id, region, principal, resource, "SELECT"):
        raise QueryFailure("", NO_TABLE_GRANT, PERMISSION)
