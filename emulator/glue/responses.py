"""Glue's wire protocol (JSON 1.1) for what moto lacks, registered in emulator.core.registry.

Owned: CreateCatalog/GetCatalog/GetCatalogs/UpdateCatalog/DeleteCatalog. GetDatabase(s)/GetTable(s) are
answered here when their CatalogId names a child of the federated ``s3tablescatalog`` (from the S3 Tables
namespaces and tables, under the caller's Lake Formation grants: access.py), otherwise by moto. State and
shapes: models.py.
"""

from __future__ import annotations

from typing import Any

from emulator.core import validation
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.glue import access, models
from emulator.glue.exceptions import InvalidInputException

SERVICE = "glue"


def _catalog_input(req: OverrideRequest) -> dict[str, Any]:
    ci = req.body.get("CatalogInput")
    if not isinstance(ci, dict):
        raise InvalidInputException("CatalogInput is required")
    validation.check(SERVICE, "CatalogInput", ci, "catalogInput")
    return ci


@register(SERVICE, "CreateCatalog")
def create_catalog(req: OverrideRequest) -> OverrideResponse:
    name = models.validate_name(req.body.get("Name"))
    ci = _catalog_input(req)
    models.create_catalog(req.account_id, req.region, name, ci, dict(req.body.get("Tags") or {}))
    return json_response({})


@register(SERVICE, "GetCatalog")
def get_catalog(req: OverrideRequest) -> OverrideResponse:
    catalog_id = req.body.get("CatalogId")
    if not isinstance(catalog_id, str) or not catalog_id:
        raise InvalidInputException("CatalogId is required")
    return json_response({"Catalog": models.describe_catalog(req.account_id, req.region, catalog_id)})


@register(SERVICE, "GetCatalogs")
def get_catalogs(req: OverrideRequest) -> OverrideResponse:
    out = models.list_catalogs(
        req.account_id,
        req.region,
        req.body.get("ParentCatalogId"),
        bool(req.body.get("Recursive")),
        bool(req.body.get("IncludeRoot")),
    )
    return json_response({"CatalogList": out})


@register(SERVICE, "UpdateCatalog")
def update_catalog(req: OverrideRequest) -> OverrideResponse:
    catalog_id = str(req.body.get("CatalogId") or "")
    ci = _catalog_input(req)
    models.update_catalog(req.account_id, req.region, catalog_id, ci)
    return json_response({})


@register(SERVICE, "DeleteCatalog")
def delete_catalog(req: OverrideRequest) -> OverrideResponse:
    models.delete_catalog(req.account_id, req.region, str(req.body.get("CatalogId") or ""))
    return json_response({})


# -- databases and tables of a child catalog of s3tablescatalog (else moto's) ----------------------
def _child_bucket(req: OverrideRequest) -> Any | None:
    return models.child_bucket(req.account_id, req.region, req.body.get("CatalogId"))


@register(SERVICE, "GetDatabase")
def get_database(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    name = req.body.get("Name")
    found = bucket.namespaces.get(name) if isinstance(name, str) else None
    _reader(req, bucket).require_database(str(name), sorted(found.tables) if found is not None else [])
    ns = models.namespace(bucket, name)
    return json_response({"Database": models.database_output(req.account_id, bucket, ns)})


@register(SERVICE, "GetDatabases")
def get_databases(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    reader = _reader(req, bucket)
    namespaces = sorted(bucket.namespaces.values(), key=lambda n: n.name)
    dbs = [
        models.database_output(req.account_id, bucket, ns)
        for ns in namespaces
        if reader.sees_database(ns.name, sorted(ns.tables))
    ]
    return json_response({"DatabaseList": dbs})


@register(SERVICE, "GetTable")
def get_table(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    database, name = req.body.get("DatabaseName"), req.body.get("Name")
    _reader(req, bucket).require_table(str(database), str(name))
    ns = models.namespace(bucket, database)
    tbl = models.table(ns, name)
    return json_response({"Table": models.table_output(req.account_id, bucket, ns, tbl)})


@register(SERVICE, "GetTables")
def get_tables(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    database = req.body.get("DatabaseName")
    reader = _reader(req, bucket)
    found = bucket.namespaces.get(database) if isinstance(database, str) else None
    reader.require_database(str(database), sorted(found.tables) if found is not None else [])
    ns = models.namespace(bucket, database)
    tables = [
        models.table_output(req.account_id, bucket, ns, t)
        for t in sorted(ns.tables.values(), key=lambda t: t.name)
        if reader.sees_table(ns.name, t.name)
    ]
    return json_response({"TableList": tables})


def _reader(req: OverrideRequest, bucket: Any) -> access.Reader:
    """Lake Formation's view of the caller in the child catalog ``ACCOUNT:s3tablescatalog/BUCKET``."""
    return access.Reader(req, f"{req.account_id}:{models.S3TABLES_CATALOG}/{bucket.name}")
