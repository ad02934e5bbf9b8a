"""The S3 Tables Iceberg REST endpoint, served under ``/iceberg`` on the local AWS's port (a mount of
emulator/app.py: ``handle``).

AWS serves it at ``https://s3tables.REGION.amazonaws.com/iceberg`` (S3 User Guide, "Accessing tables using
the Amazon S3 Tables Iceberg REST endpoint"): the warehouse is the table bucket's ARN, requests are signed
with SigV4 for the service ``s3tables``. The subset here is what the tool and pyiceberg's RestCatalog use:

    GET  /iceberg/v1/config?warehouse=ARN                      GetConfig   -> {"overrides": {"prefix": ...}}
    GET  /iceberg/v1/{prefix}/namespaces/{ns}/tables/{table}   LoadTable   -> metadata-location, metadata
    HEAD /iceberg/v1/{prefix}/namespaces/{ns}/tables/{table}   HeadTable   -> 204 or 404
    POST /iceberg/v1/{prefix}/namespaces/{ns}/tables/{table}   UpdateTable -> the commit's new metadata

The prefix is the warehouse ARN, URL-encoded as one path segment. Every request is identified as an S3
Tables call (counted by ``/_emulator/calls``, subject to ``fail_mutating_call`` and ``throttle``, the
caller's ``denied`` actions as ``s3tables:LoadTable`` ...), checked as AWS's front end would (a valid SigV4
signature of a known access key for ``s3tables`` in the warehouse's region and account), and answered with
the Iceberg REST OpenAPI spec's error model ``{"error": {"message", "type", "code"}}``: 404
``NoSuchTableException`` / ``NoSuchNamespaceException``, 409 ``CommitFailedException`` when a requirement
does not hold, 400 ``BadRequestException`` for an update Iceberg refuses (emulator/iceberg/evolution.py).
Commits are applied to the store's own Iceberg table by pyiceberg (requirements, then updates).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from emulator.core import dispatch, wsgi
from emulator.core.exceptions import AwsError
from emulator.core.protocol import Identified, render_error
from emulator.core.registry import OverrideRequest, OverrideResponse
from emulator.core.wsgi import StartResponse

PROTOCOL = "iceberg-rest"
SERVICE = "s3tables"
_TABLE = re.compile(r"^/iceberg/v1/(?P<prefix>[^/]+)/namespaces/(?P<ns>[^/]+)/tables/(?P<table>[^/]+)/?$")
_CONFIG = "/iceberg/v1/config"
_BY_METHOD = {"GET": "LoadTable", "HEAD": "HeadTable", "POST": "UpdateTable"}


def prefix_of(warehouse: str) -> str:
    return quote(warehouse, safe="")


def identify(environ: dict[str, Any]) -> Identified | None:
    """The operation of a request under /iceberg/ (None: no such route), its region and access key."""
    from emulator.core import sigv4

    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))
    path = raw.split("?", 1)[0]
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    signed = sigv4.parse(environ)
    region = signed.region if signed else ""
    key = signed.access_key if signed else ""
    if path.rstrip("/") == _CONFIG and method == "GET":
        return Identified(SERVICE, "GetConfig", region, PROTOCOL, key)
    match = _TABLE.match(path)
    if match is None or method not in _BY_METHOD:
        return None
    labels = {
        "prefix": unquote(match["prefix"]),
        "namespace": unquote(match["ns"]),
        "table": unquote(match["table"]),
    }
    return Identified(SERVICE, _BY_METHOD[method], region, PROTOCOL, key, labels)


class RestError(AwsError):
    """An Iceberg REST error: ``type`` as the spec's examples name them."""


def _authorize(req: OverrideRequest, environ: dict[str, Any], resource: str) -> None:
    """A Lambda function's call is judged by its role's IAM policies (emulator/iam/calls.py)."""
    from emulator.core import sigv4
    from emulator.iam import calls

    signed = sigv4.parse(environ)
    message = calls.denied(signed.access_key if signed else "", calls.rest_needs(req.operation, resource))
    if message is not None:
        raise RestError("ForbiddenException", message, 403)


def _table_arn(req: OverrideRequest) -> str:
    from emulator.s3tables.models import backend

    warehouse, ns, name = req.body["prefix"], req.body["namespace"], req.body["table"]
    try:
        return str(backend(req.account_id, req.region).get_table(warehouse, ns, name).arn)
    except Exception:
        return f"{warehouse}/table/{name}"


def _authenticate(req: OverrideRequest, environ: dict[str, Any]) -> None:
    """As AWS's front end: a SigV4 signature for `s3tables` by a known access key (emulator/core/auth.py)."""
    from emulator.core import auth, sigv4

    signed = sigv4.parse(environ)
    if signed is None:
        raise RestError("NotAuthorizedException", "Missing Authentication Token", 401)
    if signed.service != SERVICE:
        raise RestError(
            "ForbiddenException", f"Credential should be scoped to correct service: '{SERVICE}'.", 403
        )
    if auth.signer(environ, req.raw, signed, signed.region) is None:
        raise RestError(
            "ForbiddenException",
            "The security token included in the request is invalid, or the request signature we calculated "
            "does not match the signature you provided.",
            403,
        )


def _bucket(req: OverrideRequest, warehouse: str) -> Any:
    """The table bucket the warehouse ARN names, in the caller's account and the signed region."""
    from emulator.iceberg.schema import IcebergStoreError, split_bucket_arn
    from emulator.s3tables.models import backend

    try:
        account, region, _ = split_bucket_arn(warehouse)
    except IcebergStoreError:
        raise RestError(
            "BadRequestException", f"Invalid warehouse: {warehouse} is not a table bucket ARN", 400
        ) from None
    if region != req.region:
        raise RestError("BadRequestException", f"Warehouse {warehouse} is not in region {req.region}", 400)
    if account != req.account_id:
        raise RestError("ForbiddenException", f"Access denied to warehouse {warehouse}", 403)
    bucket = backend(account, region).table_buckets.get(warehouse)
    if bucket is None:
        raise RestError("NoSuchWarehouseException", f"Warehouse {warehouse} does not exist", 404)
    return bucket


def _table(req: OverrideRequest) -> tuple[str, str, str, Any]:
    """(warehouse ARN, namespace, table name, the Iceberg table) of a table route."""
    from pyiceberg.exceptions import NoSuchTableError

    from emulator.iceberg.store import get_store

    warehouse, ns, name = req.body["prefix"], req.body["namespace"], req.body["table"]
    bucket = _bucket(req, warehouse)
    namespace = bucket.namespaces.get(ns)
    if namespace is None:
        raise RestError("NoSuchNamespaceException", f"Namespace does not exist: {ns}", 404)
    if name not in namespace.tables:
        raise RestError("NoSuchTableException", f"Table does not exist: {ns}.{name}", 404)
    try:
        return warehouse, ns, name, get_store().load(warehouse, ns, name)
    except NoSuchTableError:
        raise RestError("NoSuchTableException", f"Table does not exist: {ns}.{name}", 404) from None


def _result(table: Any) -> OverrideResponse:
    doc = {
        "metadata-location": table.metadata_location,
        "metadata": json.loads(table.metadata.model_dump_json()),
        "config": {},
    }
    return OverrideResponse(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})


def handle_config(req: OverrideRequest, environ: dict[str, Any]) -> OverrideResponse:
    _authenticate(req, environ)
    warehouse = (req.query.get("warehouse") or [""])[0]
    if not warehouse:
        raise RestError("BadRequestException", "warehouse is required", 400)
    _bucket(req, warehouse)
    _authorize(req, environ, warehouse)
    doc = {"defaults": {}, "overrides": {"prefix": prefix_of(warehouse)}}
    return OverrideResponse(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})


def handle_load(req: OverrideRequest, environ: dict[str, Any]) -> OverrideResponse:
    _authenticate(req, environ)
    table = _table(req)[3]
    _authorize(req, environ, _table_arn(req))
    return _result(table)


def handle_exists(req: OverrideRequest, environ: dict[str, Any]) -> OverrideResponse:
    _authenticate(req, environ)
    _table(req)
    _authorize(req, environ, _table_arn(req))
    return OverrideResponse(204)


def handle_commit(req: OverrideRequest, environ: dict[str, Any]) -> OverrideResponse:
    from pydantic import TypeAdapter, ValidationError
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.table.update import TableRequirement, TableUpdate

    from emulator.iceberg.schema import IcebergStoreError
    from emulator.iceberg.store import get_store

    _authenticate(req, environ)
    warehouse, ns, name, _ = _table(req)
    _authorize(req, environ, _table_arn(req))
    try:
        doc = json.loads(req.raw or b"{}")
        requirements = TypeAdapter(tuple[TableRequirement, ...]).validate_python(doc.get("requirements", []))
        updates = TypeAdapter(tuple[TableUpdate, ...]).validate_python(doc.get("updates", []))
    except (ValueError, ValidationError, AttributeError) as exc:
        raise RestError(
            "BadRequestException", f"Malformed commit request: {str(exc).splitlines()[0]}", 400
        ) from None
    try:
        table = get_store().commit(warehouse, ns, name, requirements, updates)
    except CommitFailedException as exc:
        raise RestError("CommitFailedException", str(exc), 409) from None
    except (IcebergStoreError, ValueError) as exc:
        raise RestError("BadRequestException", str(exc), 400) from None
    from emulator.s3tables.models import backend

    backend(req.account_id, req.region).get_table(warehouse, ns, name).was_modified(req.account_id)
    return _result(table)


HANDLERS = {
    "GetConfig": handle_config,
    "LoadTable": handle_load,
    "HeadTable": handle_exists,
    "UpdateTable": handle_commit,
}


def handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Answer one request under /iceberg/ through the dispatcher (counting, faults, identity)."""
    body = wsgi.read_body(environ)
    ident = identify(environ)
    if ident is None:
        status, headers, out = render_error(SERVICE, PROTOCOL, "NotFoundException", "No such route", 404)
        return wsgi.send(start_response, OverrideResponse(status, out, headers))
    handler = HANDLERS[ident.operation]

    def own(req: OverrideRequest) -> OverrideResponse:
        return handler(req, environ)

    return dispatch.send(start_response, dispatch.dispatch(environ, body, ident, own), ident)
