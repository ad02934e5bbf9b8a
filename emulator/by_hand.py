"""A Firehose-into-Iceberg setup made by hand with boto3, as the bash scripts the tool replaces made it
(aws-s3tables-firehose-setup.md): Firehose's trust policy, the federated ``s3tablescatalog``, a table from a
signal's schema, the Lake Formation grants a Firehose role needs, and an AppendOnly Iceberg destination.

Shared by the emulator's tests and bench/emulator.py, which set the local AWS up without the tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from emulator.testing import service_trust
from lake.schemas import load

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAMESPACE = "otel"
FED_ID = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/*"
FIREHOSE_TRUST: dict[str, Any] = service_trust("firehose.amazonaws.com")


# What the Firehose role's IAM policy must allow for a delivery (emulator/firehose/needs.py), on any
# resource: the emulator tests' own setup by hand. The stack's role scopes each to its ARNs.
FIREHOSE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "glue:GetCatalog",
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:UpdateTable",
                "s3tables:GetTable",
                "s3tables:GetTableMetadataLocation",
                "s3tables:UpdateTableMetadataLocation",
                "s3tables:GetTableData",
                "s3tables:PutTableData",
                "lakeformation:GetDataAccess",
                "s3:PutObject",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


def create_firehose_role(iam: Any, name: str) -> str:
    """A role Firehose can assume, with the IAM policy a delivery needs; returns its ARN."""
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(FIREHOSE_TRUST))["Role"]["Arn"]
    )
    iam.put_role_policy(
        RoleName=name, PolicyName="firehose-delivery", PolicyDocument=json.dumps(FIREHOSE_POLICY)
    )
    return arn


def iam_principal(iam: Any, arn: str) -> str:
    """Create the IAM user or role `arn` names (path included), as it must exist before Lake Formation
    accepts it as a principal (emulator/admin/identity.py); returns `arn`."""
    kind_path = arn.split(":", 5)[5]
    kind, _, rest = kind_path.partition("/")
    path, _, name = rest.rpartition("/")
    path = f"/{path}/" if path else "/"
    if kind == "user":
        iam.create_user(UserName=name, Path=path)
    else:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(FIREHOSE_TRUST))
    return arn


def catalog_id(bucket: str) -> str:
    """The Glue/Lake Formation id of the table bucket's child catalog."""
    return f"{ACCOUNT}:s3tablescatalog/{bucket}"


def create_s3tables_catalog(glue: Any, **catalog_input: Any) -> None:
    """Setup step 1: the account's federated ``s3tablescatalog``; ``catalog_input`` adds to its input."""
    glue.create_catalog(
        Name="s3tablescatalog",
        CatalogInput={
            "FederatedCatalog": {
                "Identifier": f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/*",
                "ConnectionName": "aws:s3tables",
            },
            **catalog_input,
        },
    )


def create_table(s3t: Any, bucket_arn: str, signal: str, namespace: str = NAMESPACE) -> None:
    """CreateTable with the signal's columns as ``metadata.iceberg.schema`` (unpartitioned)."""
    fields = [{"name": c.name, "type": c.iceberg_type, "required": c.required} for c in load(signal).columns]
    s3t.create_table(
        tableBucketARN=bucket_arn,
        namespace=namespace,
        name=signal,
        format="ICEBERG",
        metadata={"iceberg": {"schema": {"fields": fields}}},
    )


def grant_tables(
    lf: Any, role_arn: str, bucket: str, tables: Iterable[str], namespace: str = NAMESPACE
) -> None:
    """Setup step 3: DESCRIBE on the namespace, ALL on each table, in the table bucket's child catalog."""
    principal = {"DataLakePrincipalIdentifier": role_arn}
    lf.grant_permissions(
        Principal=principal,
        Permissions=["DESCRIBE"],
        Resource={"Database": {"CatalogId": catalog_id(bucket), "Name": namespace}},
    )
    for table in tables:
        lf.grant_permissions(
            Principal=principal,
            Permissions=["ALL"],
            Resource={"Table": {"CatalogId": catalog_id(bucket), "DatabaseName": namespace, "Name": table}},
        )


def iceberg_destination(
    role_arn: str,
    bucket: str,
    table: str,
    error_bucket: str,
    error_prefix: str,
    *,
    size_mb: int = 1,
    interval: int = 0,
    log_group: str | None = None,
    namespace: str = NAMESPACE,
    retry_s: int | None = None,
) -> dict[str, Any]:
    """An AppendOnly IcebergDestinationConfiguration into one table; with ``log_group``, logging to its
    stream named after the table; with ``retry_s``, that RetryOptions window (AWS's default is 300 s)."""
    config: dict[str, Any] = {
        "RoleARN": role_arn,
        "AppendOnly": True,
        "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval},
        "CatalogConfiguration": {
            "CatalogARN": f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog/s3tablescatalog/{bucket}"
        },
        "DestinationTableConfigurationList": [
            {"DestinationDatabaseName": namespace, "DestinationTableName": table}
        ],
        "S3Configuration": {
            "RoleARN": role_arn,
            "BucketARN": f"arn:aws:s3:::{error_bucket}",
            "ErrorOutputPrefix": error_prefix,
        },
    }
    if retry_s is not None:
        config["RetryOptions"] = {"DurationInSeconds": retry_s}
    if log_group is not None:
        config["CloudWatchLoggingOptions"] = {
            "Enabled": True,
            "LogGroupName": log_group,
            "LogStreamName": table,
        }
    return config
