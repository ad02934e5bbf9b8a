"""What a signal's stream should be and what DescribeDeliveryStream says it is, as comparable fields: the
stream step's Desired and Observed (streams.py and append_only.py read them).

The IcebergDestinationConfiguration deploy creates a stream with (``destination``) and the same keys read
back from a description (``described_fields``), so streams.diff compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.step import Context, plain
from tasks.steps.grants import PENDING_ROLE, firehose_role


def catalog_arn(ctx: Context) -> str:
    return ctx.config.bucket_catalog_arn(ctx.account_id)


def destination(ctx: Context, signal: str) -> dict[str, Any]:
    """The IcebergDestinationConfiguration of a signal's stream (aws-facts.md, "deploy sequence" 4)."""
    c = ctx.config
    role = firehose_role(ctx) or PENDING_ROLE  # a plan before the stack exists names it so
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


@dataclass(frozen=True)
class Desired:
    name: str
    signal: str
    destination: dict[str, Any]
    tags: dict[str, str]
    # The stack's Firehose role was not known when this was built: RoleARN shows grants.PENDING_ROLE.
    role_pending: bool = False


@dataclass(frozen=True)
class Observed:
    name: str
    exists: bool
    status: str | None = None
    arn: str | None = None
    version_id: str | None = None
    destination_id: str | None = None
    stream_type: str | None = None
    created: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    tags: dict[str, str] | None = None  # None: not read (ListTagsForDeliveryStream)


def observed_from(name: str, desc: dict[str, Any] | None) -> Observed:
    if desc is None:
        return Observed(name, False)
    dest = (desc.get("Destinations") or [{}])[0]
    ice = plain(dest.get("IcebergDestinationDescription") or {})
    fields = described_fields(ice)
    failure = desc.get("FailureDescription") or {}
    return Observed(
        name,
        True,
        desc.get("DeliveryStreamStatus"),
        desc.get("DeliveryStreamARN"),
        desc.get("VersionId"),
        dest.get("DestinationId"),
        desc.get("DeliveryStreamType"),
        str(desc.get("CreateTimestamp")),
        fields,
        f"{failure.get('Type')}: {failure.get('Details')}" if failure else None,
    )
