"""Glue's state for what moto lacks: catalogs, and the federated ``s3tablescatalog`` (handlers: responses.py).

Shapes follow the botocore ``glue`` model. A federated ``s3tablescatalog`` catalog has one child catalog per
S3 table bucket (``s3tablescatalog/BUCKET``), resolved live from moto's s3tables backend. Glue
``GetDatabase(s)``/``GetTable(s)`` with such a child catalog id answer from the S3 Tables namespaces and
tables (columns from the Iceberg schema), as the federated catalog does on AWS. ``CatalogInput`` is checked
against the glue model (unknown members, enum values such as ``AllowFullTableExternalDataAccess``, types,
lengths: ``InvalidInputException``), and GetCatalog returns every member it stored.

In-process read API for other emulator parts (Firehose delivery): ``resolve(account_id, region,
catalog_id)``.
"""

from __future__ import annotations

import copy
import datetime
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.core.state import RegionalState
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


def validate_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not _NAME_RE.match(name):
        raise InvalidInputException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            "Member must have length between 1 and 64, must not contain '.', '/' or '\\' "
            "and must not start with 'aws:'",
        )
    return name


def table_bucket(account_id: str, region: str, name: str) -> Any:
    from moto.s3tables.models import s3tables_backends

    backend = s3tables_backends[account_id][region]
    for bucket in backend.table_buckets.values():
        if bucket.name == name:
            return bucket
    return None


def catalog_output(cat: Catalog) -> dict[str, Any]:
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


def child_output(parent: Catalog, bucket: Any) -> dict[str, Any]:
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


def children(cat: Catalog) -> list[Any]:
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
    bucket = table_bucket(account_id, region, child) if federated else None
    if bucket is None:
        raise EntityNotFoundException(f"Catalog not found: {catalog_id}")
    return cat, bucket


# -- catalogs ------------------------------------------------------------------------------------------
def create_catalog(
    account_id: str, region: str, name: str, catalog_input: dict[str, Any], tags: dict[str, str]
) -> None:
    with _lock:
        store = _store(account_id, region)
        if name in store:
            raise AlreadyExistsException(f"Catalog already exists: {name}")
        ident = (catalog_input.get("FederatedCatalog") or {}).get("Identifier")
        if ident and any(
            (c.catalog_input.get("FederatedCatalog") or {}).get("Identifier") == ident for c in store.values()
        ):
            raise FederatedResourceAlreadyExistsException(
                f"A catalog for federated resource {ident} already exists",
            )
        store[name] = Catalog(name, account_id, region, copy.deepcopy(catalog_input), dict(tags))


def describe_catalog(account_id: str, region: str, catalog_id: str) -> dict[str, Any]:
    """GetCatalog's ``Catalog``: a catalog of ours, or a child of a federated one."""
    cat, bucket = resolve(account_id, region, catalog_id)
    return child_output(cat, bucket) if bucket is not None else catalog_output(cat)


def list_catalogs(
    account_id: str, region: str, parent_id: str | None, recursive: bool, include_root: bool
) -> list[dict[str, Any]]:
    """GetCatalogs' ``CatalogList``: the children of ``parent_id``, or every catalog (and their children
    with ``recursive``)."""
    with _lock:
        cats = sorted(_store(account_id, region).values(), key=lambda c: c.name)
    out: list[dict[str, Any]] = []
    if parent_id and parent_id != account_id:
        cat, bucket = resolve(account_id, region, parent_id)
        if bucket is None:
            out.extend(child_output(cat, b) for b in children(cat))
        return out
    if include_root:
        out.append({"CatalogId": account_id, "Name": account_id, "Parameters": {}})
    for cat in cats:
        out.append(catalog_output(cat))
        if recursive:
            out.extend(child_output(cat, b) for b in children(cat))
    return out


def _own_catalog(account_id: str, region: str, catalog_id: str) -> Catalog:
    """A catalog of ours: a federated child is managed by its source, not by Glue's API."""
    cat, bucket = resolve(account_id, region, catalog_id)
    if bucket is not None:
        raise InvalidInputException(f"Catalog {catalog_id} is managed by its federated source")
    return cat


def update_catalog(account_id: str, region: str, catalog_id: str, catalog_input: dict[str, Any]) -> None:
    cat = _own_catalog(account_id, region, catalog_id)
    with _lock:
        cat.catalog_input = copy.deepcopy(catalog_input)
        cat.update_time = datetime.datetime.now(datetime.UTC)


def delete_catalog(account_id: str, region: str, catalog_id: str) -> None:
    cat = _own_catalog(account_id, region, catalog_id)
    with _lock:
        _store(account_id, region).pop(cat.name, None)


# -- Glue databases/tables of a child catalog of s3tablescatalog -----------------------------------
GLUE_TYPES = {
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


def child_bucket(account_id: str, region: str, catalog_id: Any) -> Any | None:
    """The table bucket when ``catalog_id`` names a child of s3tablescatalog, else None."""
    if not isinstance(catalog_id, str) or "/" not in catalog_id:
        return None
    _cat, bucket = resolve(account_id, region, catalog_id)
    return bucket


def namespace(bucket: Any, name: Any) -> Any:
    ns = bucket.namespaces.get(name) if isinstance(name, str) else None
    if ns is None:
        raise EntityNotFoundException(f"Database {name} not found.")
    return ns


def database_output(account_id: str, bucket: Any, ns: Any) -> dict[str, Any]:
    return {
        "Name": ns.name,
        "CatalogId": f"{account_id}:{S3TABLES_CATALOG}/{bucket.name}",
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
        cols.append({"Name": fld.name, "Type": GLUE_TYPES.get(type_name, str(fld.field_type))})
    return cols


def table_output(account_id: str, bucket: Any, ns: Any, tbl: Any) -> dict[str, Any]:
    params = {"table_type": "ICEBERG"}
    if tbl.metadata_location:
        params["metadata_location"] = tbl.metadata_location
    return {
        "Name": tbl.name,
        "DatabaseName": ns.name,
        "CatalogId": f"{account_id}:{S3TABLES_CATALOG}/{bucket.name}",
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


def table(ns: Any, name: Any) -> Any:
    tbl = ns.tables.get(name)
    if tbl is None:
        raise EntityNotFoundException(f"Table {name} not found.")
    return tbl
