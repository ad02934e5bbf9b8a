"""Lake Formation's permission matching: grant entries parsed, resources normalised, grants matched.

A resource names its catalog in either form (``s3tablescatalog/B`` or ``ACCOUNT:s3tablescatalog/B``) and is
stored normalised, so a grant and a later question about it compare equal; a ``TableWildcard`` grant covers
every table of its database. The grants themselves are models.py's state.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from emulator.glue import models as glue_catalogs
from emulator.lakeformation.exceptions import EntityNotFoundException, InvalidInputException

ACCOUNT_RE = re.compile(r"^\d{12}$")

# ListPermissions' ResourceType -> the Resource member it selects.
TYPE_OF = {
    "CATALOG": "Catalog",
    "DATABASE": "Database",
    "TABLE": "Table",
    "DATA_LOCATION": "DataLocation",
    "LF_TAG": "LFTag",
    "LF_TAG_POLICY": "LFTagPolicy",
    "LF_TAG_POLICY_DATABASE": "LFTagPolicy",
    "LF_TAG_POLICY_TABLE": "LFTagPolicy",
}


def _norm_catalog(value: Any, account_id: str) -> str:
    """``s3tablescatalog/B`` and ``ACCOUNT:s3tablescatalog/B`` name the same catalog."""
    if value is None or value == "":
        return account_id
    text = str(value)
    if ACCOUNT_RE.match(text):
        return text
    if ":" not in text:
        return f"{account_id}:{text}"
    acct, _, rest = text.partition(":")
    if not ACCOUNT_RE.match(acct) or not rest:
        raise InvalidInputException(f"Invalid catalog id: {text}")
    return text


def normalize_resource(resource: Any, account_id: str) -> dict[str, Any]:
    """One resource type, its catalog id in the ``ACCOUNT[:...]`` form, the members AWS requires."""
    if not isinstance(resource, dict) or not resource:
        raise InvalidInputException("Resource is required")
    kinds = [k for k in resource if resource[k] is not None]
    if len(kinds) != 1:
        raise InvalidInputException("Exactly one resource type must be specified")
    kind = kinds[0]
    body = copy.deepcopy(resource[kind]) if isinstance(resource[kind], dict) else {}
    if kind == "Catalog":
        body["Id"] = _norm_catalog(body.get("Id"), account_id)
    elif kind in ("Database", "Table", "TableWithColumns", "DataLocation", "LFTag", "LFTagPolicy"):
        body["CatalogId"] = _norm_catalog(body.get("CatalogId"), account_id)
    if kind == "Database" and not body.get("Name"):
        raise InvalidInputException("Database name is required")
    if kind in ("Table", "TableWithColumns"):
        if not body.get("DatabaseName"):
            raise InvalidInputException("Table database name is required")
        if kind == "Table" and not body.get("Name") and "TableWildcard" not in body:
            raise InvalidInputException("Table name or TableWildcard is required")
    return {kind: body}


def check_exists(resource: dict[str, Any], account_id: str, region: str) -> None:
    """Grants on a federated S3 Tables catalog need the bucket, namespace and table to exist (as on AWS)."""
    kind, body = next(iter(resource.items()))
    catalog = body.get("Id") if kind == "Catalog" else body.get("CatalogId")
    if not isinstance(catalog, str) or ":" not in catalog:
        return
    _cat, bucket = glue_catalogs.resolve(account_id, region, catalog)
    if bucket is None or kind == "Catalog":
        return
    db = body.get("Name") if kind == "Database" else body.get("DatabaseName")
    ns = bucket.namespaces.get(db)
    if ns is None:
        raise EntityNotFoundException(f"Database not found: {db}")
    if kind in ("Table", "TableWithColumns") and body.get("Name") and body["Name"] not in ns.tables:
        raise EntityNotFoundException(f"Table not found: {body['Name']}")


def principal_id(value: Any) -> str:
    """A ``DataLakePrincipal``'s identifier (AWS refuses the request without one)."""
    ident = value.get("DataLakePrincipalIdentifier") if isinstance(value, dict) else None
    if not isinstance(ident, str) or not ident:
        raise InvalidInputException("Principal.DataLakePrincipalIdentifier is required")
    return ident


def permission_set(value: Any, name: str) -> set[str]:
    """``Permissions`` or ``PermissionsWithGrantOption`` as a set (absent: none)."""
    if value is None:
        return set()
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise InvalidInputException(f"{name} must be a list of permissions")
    return set(value)


def covers(query: dict[str, Any], stored: dict[str, Any]) -> bool:
    """True when the grant on ``stored`` answers a question (or a listing) about ``query``."""
    if query == stored:
        return True
    # A table query also lists the wildcard grant of its database.
    if "Table" in query and "Table" in stored:
        q, s = query["Table"], stored["Table"]
        return bool(
            q.get("CatalogId") == s.get("CatalogId")
            and q.get("DatabaseName") == s.get("DatabaseName")
            and ("TableWildcard" in s or q.get("Name") == s.get("Name"))
        )
    return False
