"""What the Firehose tests set up by hand with boto3: tables, grants, an Iceberg destination, a stream."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pyiceberg.table import StaticTable

from emulator.iceberg.store import get_store
from lake.schemas import load
from tests.emulator import helpers as eh
from tests.emulator.helpers import NAMESPACE

BUCKET = "fh-tables"
BUCKET_ARN = f"arn:aws:s3tables:us-east-1:123456789012:bucket/{BUCKET}"
ERROR_BUCKET = "fh-errors"


def create_table(emu: Any, signal: str = "logs") -> None:
    """The S3 Tables table (moto, via the API) and its Iceberg table (the emulator's store)."""
    schema = load(signal)
    s3t = emu.client("s3tables")
    buckets = {b["name"]: b["arn"] for b in s3t.list_table_buckets()["tableBuckets"]}
    arn = buckets.get(BUCKET) or s3t.create_table_bucket(name=BUCKET)["arn"]
    if NAMESPACE not in {n["namespace"][0] for n in s3t.list_namespaces(tableBucketARN=arn)["namespaces"]}:
        s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    eh.create_table(s3t, arn, signal)
    if get_store().exists(arn, NAMESPACE, signal):
        return
    get_store().create_table(
        arn,
        NAMESPACE,
        signal,
        [
            {"Name": c.name, "Type": c.iceberg_type, "Required": c.required, "Id": c.id}
            for c in schema.columns
        ],
        [
            {
                "SourceId": schema.column("timestamp").id,
                "Transform": "day",
                "Name": "timestamp_day",
                "FieldId": 1000,
            }
        ],
    )


def rows(signal: str = "logs") -> list[dict[str, Any]]:
    location = get_store().metadata_location(BUCKET_ARN, NAMESPACE, signal)
    return StaticTable.from_metadata(location).scan().to_arrow().to_pylist()


def error_records(emu: Any, prefix: str = "errors/") -> list[dict[str, Any]]:
    s3 = emu.client("s3")
    out: list[dict[str, Any]] = []
    for obj in s3.list_objects_v2(Bucket=ERROR_BUCKET, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=ERROR_BUCKET, Key=obj["Key"])["Body"].read().decode()
        out.extend(json.loads(line) for line in body.splitlines() if line)
    return out


def iceberg_config(
    role_arn: str, signal: str = "logs", size_mb: int = 1, interval: int = 0, retry_s: int = 0
) -> dict[str, Any]:
    # No retry window unless a test asks for one: a failed delivery goes to the error bucket at once.
    return eh.iceberg_destination(
        role_arn,
        BUCKET,
        signal,
        ERROR_BUCKET,
        f"errors/{signal}/",
        size_mb=size_mb,
        interval=interval,
        log_group="/aws/kinesisfirehose/fh",
        retry_s=retry_s,
    )


def grant(emu: Any, role_arn: str, table: str, table_grant: bool = True) -> None:
    eh.grant_tables(emu.client("lakeformation"), role_arn, BUCKET, [table] if table_grant else [])


def make_stream(env: dict[str, Any], name: str = "fh-logs", **kw: Any) -> str:
    env["fh"].create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        IcebergDestinationConfiguration=iceberg_config(env["role"], **kw),
    )
    return name


def put(env: dict[str, Any], name: str, records: list[bytes]) -> dict[str, Any]:
    return dict(env["fh"].put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records]))


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])
