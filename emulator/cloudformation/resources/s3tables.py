"""S3 Tables for CloudFormation: ``AWS::S3Tables::TableBucket|Namespace|Table``.

The models are moto ``CloudFormationModel`` subclasses (defining them registers the types) that create
through moto's s3tables backend, so ListTables/GetTable/GetTableMetadataLocation see them. A table with
``IcebergMetadata`` becomes a real Iceberg v2 table; the S3 Tables behaviour they share with the API
(non-empty deletes, name reuse) is in emulator/s3tables/models.py.
"""

from __future__ import annotations

from typing import Any, Self

from moto.core.common_models import CloudFormationModel

from emulator.cloudformation.resources.base import CfnResource
from emulator.core.exceptions import AwsError
from emulator.s3tables import tags
from emulator.s3tables.models import (
    backend,
    check_name_reusable,
    create_iceberg_table,
    delete_namespace,
    delete_table_bucket,
    drop_iceberg_table,
    find_table,
)

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
        wanted = tags.check(tags.from_cfn(props))
        check_name_reusable(account_id, region_name, name)
        bucket = backend(account_id, region_name).create_table_bucket(name)
        tags.put(bucket.arn, wanted, replace=True)
        return cls(bucket.arn, name, props)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        tags.put(self.arn, tags.from_cfn(props), replace=True)  # Tags update in place
        self.properties = props

    @classmethod
    def cfn_import(
        cls, identifier: dict[str, str], props: dict[str, Any], account_id: str, region_name: str
    ) -> Self:
        arn = identifier.get("TableBucketARN", "")
        bucket = backend(account_id, region_name).table_buckets.get(arn)
        if bucket is None:
            raise AwsError("ValidationError", f"Resources [{arn}] of type {cls.CFN_TYPE} do not exist")
        return cls(arn, bucket.name, props)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        delete_table_bucket(account_id, region_name, physical_id)
        tags.forget(physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        delete_table_bucket(account_id, region_name, self.arn)
        tags.forget(self.arn)


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
    def cfn_import(
        cls, identifier: dict[str, str], props: dict[str, Any], account_id: str, region_name: str
    ) -> Self:
        arn, ns = identifier.get("TableBucketARN", ""), identifier.get("Namespace", "")
        bucket = backend(account_id, region_name).table_buckets.get(arn)
        if bucket is None or ns not in bucket.namespaces:
            raise AwsError("ValidationError", f"Resources [{arn}|{ns}] of type {cls.CFN_TYPE} do not exist")
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
        return self.arn  # the table ARN (ending in the table id), as Ref gives it

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
        wanted = tags.check(tags.from_cfn(props))
        be = backend(account_id, region_name)
        tags.put(str(be.create_table(arn, ns, name, "ICEBERG").arn), wanted, replace=True)
        meta = props.get("IcebergMetadata")
        if meta:
            fields = ((meta.get("IcebergSchema") or {}).get("SchemaFieldList")) or []
            parts = ((meta.get("IcebergPartitionSpec") or {}).get("Fields")) or []
            try:
                create_iceberg_table(account_id, region_name, arn, ns, name, fields, parts)
            except Exception:
                be.delete_table(arn, ns, name)
                raise
        from emulator.s3tables.maintenance import from_cloudformation

        from_cloudformation(be.get_table(arn, ns, name), props)
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
        from emulator.s3tables.maintenance import from_cloudformation

        from_cloudformation(self._moto(), props)
        tags.put(self.arn, tags.from_cfn(props), replace=True)  # Tags update in place
        self.properties = props

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        bucket_arn = physical_id.partition("/table/")[0]
        found = find_table(account_id, region_name, physical_id)
        ns, name = found or (props.get("Namespace", ""), props.get("TableName", ""))
        backend(account_id, region_name).delete_table(bucket_arn, ns, name)
        drop_iceberg_table(bucket_arn, ns, name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend(account_id, region_name).delete_table(self.bucket_arn, self.namespace, self.name)
        drop_iceberg_table(self.bucket_arn, self.namespace, self.name)
