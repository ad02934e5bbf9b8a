"""What a signal's stream should be and what DescribeDeliveryStream says it is, as comparable fields.

The IcebergDestinationConfiguration deploy creates a stream with (``destination``) and the same keys read
back from a description (``described_fields``), so streams.diff compares like with like.
"""

from __future__ import annotations

from typing import Any

from tasks.step import Context
from tasks.steps.grants import firehose_role


def catalog_arn(ctx: Context) -> str:
    return ctx.config.bucket_catalog_arn(ctx.account_id)


def destination(ctx: Context, signal: str) -> dict[str, Any]:
    """The IcebergDestinationConfiguration of a signal's stream (aws-facts.md, "deploy sequence" 4)."""
    c = ctx.config
    role = firehose_role(ctx)
    return {
        "DestinationTableConfigurationList": [
            {"DestinationDatabaseName": c.namespace, "DestinationTableName": signal}
        ],
        "BufferingHints": {
            "SizeInMBs": c.firehose.buffering_size_mb,
            "IntervalInSeconds": c.firehose.buffering_interval_seconds,
        },
        "CloudWatchLoggingOptions": {
            "Enabled": True,
            "LogGroupName": c.log_group_name,
            "LogStreamName": c.log_stream_name(signal),
        },
        "RoleARN": role,
        "RetryOptions": {"DurationInSeconds": c.firehose.retry_duration_seconds},
        "S3BackupMode": "FailedDataOnly",
        "AppendOnly": True,
        "CatalogConfiguration": {"CatalogARN": catalog_arn(ctx)},
        "S3Configuration": {
            "RoleARN": role,
            "BucketARN": c.error_bucket_arn(ctx.account_id),
            "ErrorOutputPrefix": c.error_prefix(signal),
        },
    }


def described_fields(ice: dict[str, Any]) -> dict[str, Any]:
    """The fields of an IcebergDestinationDescription that ``destination`` sets, and whether it is Iceberg."""
    s3 = ice.get("S3DestinationDescription") or {}
    return {
        # None when DescribeDeliveryStream leaves it out: unknown, never read as false (aws-facts.md).
        "AppendOnly": None if ice.get("AppendOnly") is None else bool(ice["AppendOnly"]),
        "CatalogConfiguration": {"CatalogARN": (ice.get("CatalogConfiguration") or {}).get("CatalogARN")},
        "DestinationTableConfigurationList": [
            {
                "DestinationDatabaseName": t.get("DestinationDatabaseName"),
                "DestinationTableName": t.get("DestinationTableName"),
            }
            for t in ice.get("DestinationTableConfigurationList", [])
        ],
        "BufferingHints": ice.get("BufferingHints"),
        "CloudWatchLoggingOptions": ice.get("CloudWatchLoggingOptions"),
        "RoleARN": ice.get("RoleARN"),
        "RetryOptions": ice.get("RetryOptions"),
        "S3Configuration": {
            "RoleARN": s3.get("RoleARN"),
            "BucketARN": s3.get("BucketARN"),
            "ErrorOutputPrefix": s3.get("ErrorOutputPrefix"),
        },
        "Iceberg": bool(ice),
    }
