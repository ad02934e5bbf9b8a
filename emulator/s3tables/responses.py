"""S3 Tables API handlers: what moto's answers lack (see models.py).

DeleteTableBucket and DeleteNamespace refuse a non-empty bucket or namespace with ``ConflictException``
(409); CreateTableBucket refuses a name in its transitional state; CreateTable with ``metadata`` (schema
and partition spec) and DeleteTable keep the Iceberg table in step. Table maintenance is in
maintenance.py, the Iceberg REST endpoint in rest.py.
"""

from __future__ import annotations

from moto.s3tables.exceptions import ConflictException

from emulator.core import validation
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from emulator.s3tables.exceptions import BadRequestError, ConflictError
from emulator.s3tables.models import (
    backend,
    check_name_reusable,
    create_iceberg_table,
    drop_iceberg_table,
    note_deleted,
)

# -- S3 Tables API overrides -----------------------------------------------------------------------


def _conflict(exc: ConflictException) -> ConflictError:
    return ConflictError(exc.message)


@register("s3tables", "DeleteTableBucket")
def api_delete_table_bucket(req: OverrideRequest) -> OverrideResponse | None:
    arn = req.body.get("tableBucketARN", "")
    be = backend(req.account_id, req.region)
    bucket = be.table_buckets.get(arn)
    if bucket is not None and bucket.namespaces:
        raise ConflictError("The bucket that you tried to delete is not empty.")
    resp = req.forward()
    if resp.status < 300:
        note_deleted(req.account_id, req.region, arn)
    return resp


@register("s3tables", "CreateTableBucket")
def api_create_table_bucket(req: OverrideRequest) -> OverrideResponse | None:
    try:
        check_name_reusable(req.account_id, req.region, str(req.body.get("name", "")))
    except ConflictException as exc:
        raise _conflict(exc) from None
    return None


@register("s3tables", "DeleteNamespace")
def api_delete_namespace(req: OverrideRequest) -> OverrideResponse | None:
    arn = req.body.get("tableBucketARN", "")
    be = backend(req.account_id, req.region)
    bucket = be.table_buckets.get(arn)
    ns = bucket.namespaces.get(req.body.get("namespace", "")) if bucket else None
    if ns is not None and ns.tables:
        raise ConflictError("The namespace that you tried to delete is not empty.")
    return None


@register("s3tables", "DeleteTable")
def api_delete_table(req: OverrideRequest) -> OverrideResponse | None:
    resp = req.forward()
    if resp.status < 300:
        drop_iceberg_table(
            req.body.get("tableBucketARN", ""), req.body.get("namespace", ""), req.body.get("name", "")
        )
    return resp


@register("s3tables", "CreateTable")
def api_create_table(req: OverrideRequest) -> OverrideResponse | None:
    """Forward to moto; with ``metadata.iceberg.schema`` also create the real Iceberg table, with the
    ``partitionSpec`` given. The table gets fresh field ids in field order (1, 2, ...), as an Iceberg catalog
    assigns them on create; whether S3 Tables keeps ids given in the request is unconfirmed."""
    metadata = req.body.get("metadata") or {}
    if metadata:
        validation.check("s3tables", "TableMetadata", metadata, "metadata", code="BadRequestException")
    iceberg = metadata.get("iceberg") or {}
    fields = (iceberg.get("schema") or {}).get("fields") or []
    resp = req.forward()
    if resp.status >= 300 or not fields:
        return resp
    cfn_fields = [
        {"Id": f.get("id"), "Name": f.get("name"), "Type": f.get("type"), "Required": bool(f.get("required"))}
        for f in fields
    ]
    cfn_parts = [
        {
            "SourceId": p["source-id"],
            "Transform": p["transform"],
            "Name": p["name"],
            "FieldId": p.get("field-id"),
        }
        for p in (iceberg.get("partitionSpec") or {}).get("fields") or []
    ]
    arn, ns, name = (str(req.body.get(k, "")) for k in ("tableBucketARN", "namespace", "name"))
    try:
        create_iceberg_table(req.account_id, req.region, arn, ns, name, cfn_fields, cfn_parts)
    except Exception as exc:
        backend(req.account_id, req.region).delete_table(arn, ns, name)
        raise BadRequestError(f"Invalid Iceberg metadata: {exc}") from exc
    return resp
