"""S3 Tables for CloudFormation (``AWS::S3Tables::TableBucket|Namespace|Table``) and the S3 Tables API fixes.

The CloudFormation models are moto ``CloudFormationModel`` subclasses (defining them registers the types)
that create through moto's s3tables backend, so ListTables/GetTable/GetTableMetadataLocation see them. A
table with ``IcebergMetadata`` becomes a real Iceberg v2 table (emulator/iceberg_store.py), whose metadata
location GetTableMetadataLocation returns.

API behaviour moto lacks, owned here: deleting a table bucket that still has namespaces, or a namespace
that still has tables, is a ``ConflictException`` (409) as on AWS; CreateTable with ``metadata`` and
DeleteTable keep the Iceberg table in step. With the fault ``latency.s3tables_bucket_name_reuse_seconds``,
a just-deleted bucket's name is refused with ``ConflictException`` for that long, as AWS may do
("transitional state"), through the API and CloudFormation alike.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.s3tables.exceptions import ConflictException
from moto.s3tables.models import S3TablesBackend, s3tables_backends

from emulator.admin import faults
from emulator.cfn_model import CfnResource
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from emulator.core.state import RegionalState

_lock = threading.RLock()
# bucket name -> time.monotonic() from which a just-deleted name may be created again
_name_free_at: RegionalState[dict[str, float]] = RegionalState(dict, _lock)
TRANSITIONAL = (
    "The table bucket name is in a transitional state after a recent deletion. Try again in a few minutes."
)


def backend(account_id: str, region: str) -> S3TablesBackend:
    return s3tables_backends[account_id][region]


def _bucket_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _note_deleted(account_id: str, region: str, arn: str) -> None:
    seconds = float((faults.get("latency") or {}).get("s3tables_bucket_name_reuse_seconds", 0) or 0)
    if seconds > 0:
        with _lock:
            _name_free_at(account_id, region)[_bucket_name(arn)] = time.monotonic() + seconds
        faults.record_fired("latency")


def check_name_reusable(account_id: str, region: str, name: str) -> None:
    with _lock:
        free_at = _name_free_at(account_id, region).get(name)
    if free_at is not None and time.monotonic() < free_at:
        raise ConflictException(TRANSITIONAL)


def delete_table_bucket(account_id: str, region: str, arn: str) -> None:
    """Delete as AWS does: refused while the bucket still has namespaces (and so tables)."""
    be = backend(account_id, region)
    bucket = be.get_table_bucket(arn)
    if bucket.namespaces:
        raise ConflictException("The bucket that you tried to delete is not empty.")
    be.delete_table_bucket(arn)
    _note_deleted(account_id, region, arn)


def delete_namespace(account_id: str, region: str, arn: str, namespace: str) -> None:
    be = backend(account_id, region)
    ns = be.get_namespace(arn, namespace)
    if ns.tables:
        raise ConflictException("The namespace that you tried to delete is not empty.")
    be.delete_namespace(arn, namespace)


def create_iceberg_table(
    account_id: str,
    region: str,
    arn: str,
    namespace: str,
    name: str,
    schema_fields: list[dict[str, Any]],
    partition_fields: list[dict[str, Any]] | None,
) -> None:
    """Create the real Iceberg table and point moto's table at it (metadata and warehouse location)."""
    from emulator.iceberg.store import get_store

    store = get_store()
    bucket = _bucket_name(arn)
    location = store.create_table(bucket, namespace, name, schema_fields, partition_fields or [])
    table = backend(account_id, region).get_table(arn, namespace, name)
    table.metadata_location = location
    table.warehouse_location = store.table_location(bucket, namespace, name)


def drop_iceberg_table(arn: str, namespace: str, name: str) -> None:
    try:
        from emulator.iceberg.store import get_store
    except ImportError:  # pragma: no cover
        return
    get_store().drop_table(_bucket_name(arn), namespace, name)


# -- CloudFormation models -------------------------------------------------------------------------


class TableBucket(CfnResource, CloudFormationModel):
    """``AWS::S3Tables::TableBucket``: Ref and GetAtt TableBucketARN give the ARN."""

    CFN_TYPE = "AWS::S3Tables::TableBucket"
    CFN_NAME_TYPE = "TableBucketName"
    CFN_ATTRS = ("TableBucketARN",)

    def __init__(self, arn: str, name: str, properties: dict[str, Any]) -> None:
        self.arn = arn
        self.name = name
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "TableBucketARN":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        name = props.get("TableBucketName", resource_name).lower()
        check_name_reusable(account_id, region_name, name)
        bucket = backend(account_id, region_name).create_table_bucket(name)
        return cls(bucket.arn, name, props)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        self.properties = props

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        delete_table_bucket(account_id, region_name, physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        delete_table_bucket(account_id, region_name, self.arn)


class Namespace(CfnResource, CloudFormationModel):
    """``AWS::S3Tables::Namespace``: Ref gives ``TABLE_BUCKET_ARN|NAMESPACE`` (its primary identifier)."""

    CFN_TYPE = "AWS::S3Tables::Namespace"
    CFN_NAME_TYPE = "Namespace"

    def __init__(self, bucket_arn: str, namespace: str) -> None:
        self.bucket_arn = bucket_arn
        self.namespace = namespace

    @property
    def physical_resource_id(self) -> str:
        return f"{self.bucket_arn}|{self.namespace}"

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        arn = props["TableBucketARN"]
        ns = props.get("Namespace", resource_name)
        backend(account_id, region_name).create_namespace(arn, ns)
        return cls(arn, ns)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        arn, _, ns = physical_id.partition("|")
        delete_namespace(account_id, region_name, arn, ns)

    def delete(self, account_id: str, region_name: str) -> None:
        delete_namespace(account_id, region_name, self.bucket_arn, self.namespace)


class Table(CfnResource, CloudFormationModel):
    """``AWS::S3Tables::Table``: Ref gives the table ARN; GetAtt TableARN, WarehouseLocation, VersionToken."""

    CFN_TYPE = "AWS::S3Tables::Table"
    CFN_NAME_TYPE = "TableName"
    CFN_ATTRS = ("TableARN", "WarehouseLocation", "VersionToken")

    def __init__(
        self, account_id: str, region: str, bucket_arn: str, namespace: str, name: str, props: dict[str, Any]
    ):
        self.account_id = account_id
        self.region = region
        self.bucket_arn = bucket_arn
        self.namespace = namespace
        self.name = name
        self.properties = props

    def _moto(self) -> Any:
        return backend(self.account_id, self.region).get_table(self.bucket_arn, self.namespace, self.name)

    @property
    def arn(self) -> str:
        return str(self._moto().arn)

    @property
    def physical_resource_id(self) -> str:
        return f"{self.bucket_arn}/table/{self.name}"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        table = self._moto()
        if attribute_name == "TableARN":
            return table.arn
        if attribute_name == "WarehouseLocation":
            return table.warehouse_location
        if attribute_name == "VersionToken":
            return table.version_token
        raise UnformattedGetAttTemplateException()

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        arn = props["TableBucketARN"]
        ns = props["Namespace"]
        name = props.get("TableName", resource_name)
        fmt = props.get("OpenTableFormat", "ICEBERG")
        if fmt != "ICEBERG":
            raise AwsError("ValidationException", f"OpenTableFormat {fmt!r} is not supported: only ICEBERG")
        be = backend(account_id, region_name)
        be.create_table(arn, ns, name, "ICEBERG")
        meta = props.get("IcebergMetadata")
        if meta:
            fields = ((meta.get("IcebergSchema") or {}).get("SchemaFieldList")) or []
            parts = ((meta.get("IcebergPartitionSpec") or {}).get("Fields")) or []
            try:
                create_iceberg_table(account_id, region_name, arn, ns, name, fields, parts)
            except Exception:
                be.delete_table(arn, ns, name)
                raise
        return cls(account_id, region_name, arn, ns, name, props)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        new_ns = props.get("Namespace", self.namespace)
        new_name = props.get("TableName", self.name)
        if (new_ns, new_name) != (self.namespace, self.name):
            backend(account_id, region_name).rename_table(
                self.bucket_arn,
                self.namespace,
                self.name,
                new_namespace_name=new_ns if new_ns != self.namespace else None,
                new_name=new_name if new_name != self.name else None,
            )
            self.namespace = new_ns
            self.name = new_name
        self.properties = props

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        bucket_arn, _, name = physical_id.partition("/table/")
        ns = props.get("Namespace", "")
        backend(account_id, region_name).delete_table(bucket_arn, ns, name)
        drop_iceberg_table(bucket_arn, ns, name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend(account_id, region_name).delete_table(self.bucket_arn, self.namespace, self.name)
        drop_iceberg_table(self.bucket_arn, self.namespace, self.name)


# -- S3 Tables API overrides -----------------------------------------------------------------------


def _conflict(exc: ConflictException) -> AwsError:
    return AwsError("ConflictException", exc.message, 409)


@register("s3tables", "DeleteTableBucket")
def api_delete_table_bucket(req: OverrideRequest) -> OverrideResponse | None:
    arn = req.body.get("tableBucketARN", "")
    be = backend(req.account_id, req.region)
    bucket = be.table_buckets.get(arn)
    if bucket is not None and bucket.namespaces:
        raise AwsError("ConflictException", "The bucket that you tried to delete is not empty.", 409)
    resp = req.forward()
    if resp.status < 300:
        _note_deleted(req.account_id, req.region, arn)
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
        raise AwsError("ConflictException", "The namespace that you tried to delete is not empty.", 409)
    return None


@register("s3tables", "DeleteTable")
def api_delete_table(req: OverrideRequest) -> OverrideResponse | None:
    resp = req.forward()
    if resp.status < 300:
        drop_iceberg_table(
            req.body.get("tableBucketARN", ""), req.body.get("namespace", ""), req.body.get("name", "")
        )
    return resp


_API_TYPES = {
    "boolean",
    "int",
    "long",
    "float",
    "double",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "string",
    "uuid",
    "binary",
}


@register("s3tables", "CreateTable")
def api_create_table(req: OverrideRequest) -> OverrideResponse | None:
    """Forward to moto; with ``metadata.iceberg.schema`` also create the real Iceberg table."""
    schema = ((req.body.get("metadata") or {}).get("iceberg") or {}).get("schema") or {}
    fields = schema.get("fields") or []
    resp = req.forward()
    if resp.status >= 300 or not fields:
        return resp
    cfn_fields = [
        {
            "Id": i + 1,
            "Name": f.get("name"),
            "Type": f.get("type"),
            "Required": bool(f.get("required", False)),
        }
        for i, f in enumerate(fields)
    ]
    try:
        create_iceberg_table(
            req.account_id,
            req.region,
            req.body.get("tableBucketARN", ""),
            req.body.get("namespace", ""),
            req.body.get("name", ""),
            cfn_fields,
            [],
        )
    except Exception as exc:
        backend(req.account_id, req.region).delete_table(
            req.body.get("tableBucketARN", ""), req.body.get("namespace", ""), req.body.get("name", "")
        )
        raise AwsError("BadRequestException", f"Invalid Iceberg schema: {exc}") from exc
    return resp
