"""Glue catalogs (CreateCatalog/GetCatalog/GetCatalogs/UpdateCatalog/DeleteCatalog), which moto lacks.

Shapes follow the botocore ``glue`` model. A federated ``s3tablescatalog`` catalog has one child catalog per
S3 table bucket (``s3tablescatalog/BUCKET``), resolved live from moto's s3tables backend. Glue
``GetDatabase(s)``/``GetTable(s)`` with such a child catalog id answer from the S3 Tables namespaces and
tables (columns from the Iceberg schema), as the federated catalog does on AWS. ``CatalogInput`` is checked
against the glue model (unknown members, enum values such as ``AllowFullTableExternalDataAccess``, types,
lengths: ``InvalidInputException``), and GetCatalog returns every member it stored.
"""

from __future__ import annotations

import copy
import datetime
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.core import validation
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.core.state import RegionalState
from emulator.glue import access
from emulator.glue.exceptions import (
    AlreadyExistsException,
    EntityNotFoundException,
    FederatedResourceAlreadyExistsException,
    InvalidInputException,
)

S3TABLES_CATALOG = "s3tablescatalog"
_NAME_RE = re.compile(r"^(?!(.*[./\\]|aws:)).*$")


@dataclass
class Catalog:
    name: str
    account_id: str
    region: str
    catalog_input: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    create_time: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    update_time: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))


_lock = threading.Lock()
_store: RegionalState[dict[str, Catalog]] = RegionalState(dict, _lock)


def get_catalog(account_id: str, region: str, name: str) -> Catalog | None:
    """In-process read API (e.g. for the Firehose handlers)."""
    with _lock:
        return _store(account_id, region).get(name)


def _arn(region: str, account_id: str, path: str) -> str:
    from moto.utilities.utils import get_partition

    return f"arn:{get_partition(region)}:glue:{region}:{account_id}:catalog/{path}"


def split_catalog_id(catalog_id: str, account_id: str) -> tuple[str, str | None]:
    """``[ACCOUNT:]parent[/child]`` -> (parent, child). Another account's id is not found here."""
    raw = catalog_id
    if ":" in raw:
        acct, _, raw = raw.partition(":")
        if acct != account_id:
            raise EntityNotFoundException(f"Catalog not found: {catalog_id}")
    parent, _, child = raw.partition("/")
    return parent, (child or None)


def _validate_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not _NAME_RE.match(name):
        raise InvalidInputException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            "Member must have length between 1 and 64, must not contain '.', '/' or '\\' "
            "and must not start with 'aws:'",
        )
    return name


def _table_bucket(account_id: str, region: str, name: str) -> Any:
    from moto.s3tables.models import s3tables_backends

    backend = s3tables_backends[account_id][region]
    for bucket in backend.table_buckets.values():
        if bucket.name == name:
            return bucket
    return None


def _catalog_output(cat: Catalog) -> dict[str, Any]:
    ci = cat.catalog_input
    out: dict[str, Any] = {
        "CatalogId": f"{cat.account_id}:{cat.name}",
        "Name": cat.name,
        "ResourceArn": _arn(cat.region, cat.account_id, cat.name),
        "CreateTime": cat.create_time,
        "UpdateTime": cat.update_time,
        "CreateTableDefaultPermissions": copy.deepcopy(ci.get("CreateTableDefaultPermissions", [])),
        "CreateDatabaseDefaultPermissions": copy.deepcopy(ci.get("CreateDatabaseDefaultPermissions", [])),
    }
    for key in (
        "Description",
        "Parameters",
        "TargetRedshiftCatalog",
        "FederatedCatalog",
        "AllowFullTableExternalDataAccess",
    ):
        if key in ci:
            out[key] = copy.deepcopy(ci[key])
    props = copy.deepcopy(ci.get("CatalogProperties") or {})
    out["CatalogProperties"] = props
    if "Parameters" not in out:
        out["Parameters"] = {}
    return out


def _child_output(parent: Catalog, bucket: Any) -> dict[str, Any]:
    path = f"{parent.name}/{bucket.name}"
    return {
        "CatalogId": f"{parent.account_id}:{path}",
        "Name": bucket.name,
        "ResourceArn": _arn(parent.region, parent.account_id, path),
        "Parameters": {},
        "CreateTime": bucket.creation_date,
        "UpdateTime": bucket.creation_date,
        "FederatedCatalog": {"Identifier": bucket.arn, "ConnectionName": "aws:s3tables"},
        "CatalogProperties": {},
        "CreateTableDefaultPermissions": [],
        "CreateDatabaseDefaultPermissions": [],
    }


def _children(cat: Catalog) -> list[Any]:
    fed = (cat.catalog_input.get("FederatedCatalog") or {}).get("ConnectionName")
    if fed != "aws:s3tables":
        return []
    from moto.s3tables.models import s3tables_backends

    backend = s3tables_backends[cat.account_id][cat.region]
    return sorted(backend.table_buckets.values(), key=lambda b: b.name)


def resolve(account_id: str, region: str, catalog_id: str) -> tuple[Catalog, Any | None]:
    """(catalog, table bucket or None) for a catalog id; EntityNotFoundException when either is missing."""
    parent, child = split_catalog_id(catalog_id, account_id)
    with _lock:
        cat = _store(account_id, region).get(parent)
    if cat is None:
        raise EntityNotFoundException(f"Catalog not found: {catalog_id}")
    if child is None:
        return cat, None
    federated = (cat.catalog_input.get("FederatedCatalog") or {}).get("ConnectionName") == "aws:s3tables"
    bucket = _table_bucket(account_id, region, child) if federated else None
    if bucket is None:
        raise EntityNotFoundException(f"Catalog not found: {catalog_id}")
    return cat, bucket


@register("glue", "CreateCatalog")
def create_catalog(req: OverrideRequest) -> OverrideResponse:
    name = _validate_name(req.body.get("Name"))
    ci = req.body.get("CatalogInput")
    if not isinstance(ci, dict):
        raise InvalidInputException("CatalogInput is required")
    validation.check("glue", "CatalogInput", ci, "catalogInput")
    with _lock:
        store = _store(req.account_id, req.region)
        if name in store:
            raise AlreadyExistsException(f"Catalog already exists: {name}")
        ident = (ci.get("FederatedCatalog") or {}).get("Identifier")
        if ident and any(
            (c.catalog_input.get("FederatedCatalog") or {}).get("Identifier") == ident for c in store.values()
        ):
            raise FederatedResourceAlreadyExistsException(
                f"A catalog for federated resource {ident} already exists",
            )
        store[name] = Catalog(
            name, req.account_id, req.region, copy.deepcopy(ci), dict(req.body.get("Tags") or {})
        )
    return json_response({})


@register("glue", "GetCatalog")
def get_catalog_op(req: OverrideRequest) -> OverrideResponse:
    catalog_id = req.body.get("CatalogId")
    if not isinstance(catalog_id, str) or not catalog_id:
        raise InvalidInputException("CatalogId is required")
    cat, bucket = resolve(req.account_id, req.region, catalog_id)
    return json_response(
        {"Catalog": _child_output(cat, bucket) if bucket is not None else _catalog_output(cat)}
    )


@register("glue", "GetCatalogs")
def get_catalogs(req: OverrideRequest) -> OverrideResponse:
    parent_id = req.body.get("ParentCatalogId")
    recursive = bool(req.body.get("Recursive"))
    with _lock:
        cats = sorted(_store(req.account_id, req.region).values(), key=lambda c: c.name)
    out: list[dict[str, Any]] = []
    if parent_id and parent_id != req.account_id:
        cat, bucket = resolve(req.account_id, req.region, parent_id)
        if bucket is None:
            out.extend(_child_output(cat, b) for b in _children(cat))
    else:
        if req.body.get("IncludeRoot"):
            out.append({"CatalogId": req.account_id, "Name": req.account_id, "Parameters": {}})
        for cat in cats:
            out.append(_catalog_output(cat))
            if recursive:
                out.extend(_child_output(cat, b) for b in _children(cat))
    return json_response({"CatalogList": out})


@register("glue", "UpdateCatalog")
def update_catalog(req: OverrideRequest) -> OverrideResponse:
    catalog_id = str(req.body.get("CatalogId") or "")
    ci = req.body.get("CatalogInput")
    if not isinstance(ci, dict):
        raise InvalidInputException("CatalogInput is required")
    validation.check("glue", "CatalogInput", ci, "catalogInput")
    cat, bucket = resolve(req.account_id, req.region, catalog_id)
    if bucket is not None:
        raise InvalidInputException(f"Catalog {catalog_id} is managed by its federated source")
    with _lock:
        cat.catalog_input = copy.deepcopy(ci)
        cat.update_time = datetime.datetime.now(datetime.UTC)
    return json_response({})


@register("glue", "DeleteCatalog")
def delete_catalog(req: OverrideRequest) -> OverrideResponse:
    catalog_id = str(req.body.get("CatalogId") or "")
    cat, bucket = resolve(req.account_id, req.region, catalog_id)
    if bucket is not None:
        raise InvalidInputException(f"Catalog {catalog_id} is managed by its federated source")
    with _lock:
        _store(req.account_id, req.region).pop(cat.name, None)
    return json_response({})


# -- Glue databases/tables of a child catalog of s3tablescatalog -----------------------------------

_GLUE_TYPES = {
    "long": "bigint",
    "int": "int",
    "integer": "int",
    "string": "string",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "date": "date",
    "binary": "binary",
}


def _child_bucket(req: OverrideRequest) -> Any | None:
    """The table bucket when the request's CatalogId names a child of s3tablescatalog, else None."""
    catalog_id = req.body.get("CatalogId")
    if not isinstance(catalog_id, str) or "/" not in catalog_id:
        return None
    _cat, bucket = resolve(req.account_id, req.region, catalog_id)
    return bucket


def _database_output(req: OverrideRequest, bucket: Any, ns: Any) -> dict[str, Any]:
    return {
        "Name": ns.name,
        "CatalogId": f"{req.account_id}:{S3TABLES_CATALOG}/{bucket.name}",
        "CreateTime": ns.creation_date,
        "Parameters": {},
        "CreateTableDefaultPermissions": [],
    }


def _columns(bucket: Any, ns: str, table: str) -> list[dict[str, str]]:
    try:
        from emulator.iceberg.store import get_store

        schema = get_store().schema(bucket.arn, ns, table)
    except Exception:
        return []
    cols = []
    for fld in schema.fields:
        type_name = str(fld.field_type).split("(")[0].lower()
        cols.append({"Name": fld.name, "Type": _GLUE_TYPES.get(type_name, str(fld.field_type))})
    return cols


def _table_output(req: OverrideRequest, bucket: Any, ns: Any, tbl: Any) -> dict[str, Any]:
    params = {"table_type": "ICEBERG"}
    if tbl.metadata_location:
        params["metadata_location"] = tbl.metadata_location
    return {
        "Name": tbl.name,
        "DatabaseName": ns.name,
        "CatalogId": f"{req.account_id}:{S3TABLES_CATALOG}/{bucket.name}",
        "CreateTime": tbl.creation_date,
        "UpdateTime": tbl.last_modified,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": _columns(bucket, ns.name, tbl.name),
            "Location": tbl.warehouse_location,
        },
        "Parameters": params,
        "IsRegisteredWithLakeFormation": True,
    }


def _namespace(bucket: Any, name: Any) -> Any:
    ns = bucket.namespaces.get(name) if isinstance(name, str) else None
    if ns is None:
        raise EntityNotFoundException(f"Database {name} not found.")
    return ns


@register("glue", "GetDatabase")
def get_database(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    name = req.body.get("Name")
    reader = access.Reader(req, _child_id(req, bucket))
    ns = bucket.namespaces.get(name) if isinstance(name, str) else None
    reader.require_database(str(name), sorted(ns.tables) if ns is not None else [])
    return json_response({"Database": _database_output(req, bucket, _namespace(bucket, name))})


@register("glue", "GetDatabases")
def get_databases(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    reader = access.Reader(req, _child_id(req, bucket))
    dbs = [
        _database_output(req, bucket, ns)
        for ns in sorted(bucket.namespaces.values(), key=lambda n: n.name)
        if reader.sees_database(ns.name, sorted(ns.tables))
    ]
    return json_response({"DatabaseList": dbs})


@register("glue", "GetTable")
def get_table(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    database, name = req.body.get("DatabaseName"), req.body.get("Name")
    access.Reader(req, _child_id(req, bucket)).require_table(str(database), str(name))
    ns = _namespace(bucket, database)
    tbl = ns.tables.get(name)
    if tbl is None:
        raise EntityNotFoundException(f"Table {name} not found.")
    return json_response({"Table": _table_output(req, bucket, ns, tbl)})


@register("glue", "GetTables")
def get_tables(req: OverrideRequest) -> OverrideResponse | None:
    bucket = _child_bucket(req)
    if bucket is None:
        return None
    database = req.body.get("DatabaseName")
    reader = access.Reader(req, _child_id(req, bucket))
    found = bucket.namespaces.get(database) if isinstance(database, str) else None
    reader.require_database(str(database), sorted(found.tables) if found is not None else [])
    ns = _namespace(bucket, database)
    tables = [
        _table_output(req, bucket, ns, t)
        for t in sorted(ns.tables.values(), key=lambda t: t.name)
        if reader.sees_table(ns.name, t.name)
    ]
    return json_response({"TableList": tables})


def _child_id(req: OverrideRequest, bucket: Any) -> str:
    return f"{req.account_id}:{S3TABLES_CATALOG}/{bucket.name}"
