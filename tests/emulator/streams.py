"""Reads and out-of-band changes of the emulator's Firehose streams and the stack's outputs (plain boto3),
shared by the e2e and reliability tests."""

from __future__ import annotations

import time
from typing import Any

from tasks.config import Config
from tests.waiting import wait_for

ACCOUNT = "123456789012"
REGION = "us-east-1"


def flush_until_quiet(emu: Any, deadline_s: float = 60.0) -> dict[str, int]:
    """Flush the emulator's Firehose buffers until a flush delivers nothing more."""
    total = {"delivered": 0, "failed": 0}
    end = time.monotonic() + deadline_s
    delay = 0.05
    while True:
        got = emu.flush()
        total["delivered"] += int(got.get("delivered", 0))
        total["failed"] += int(got.get("failed", 0))
        if not got.get("delivered") and not got.get("failed"):
            return total
        if time.monotonic() > end:
            return total
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


# -- out-of-band breakage (plain boto3, as a person or another tool would) ----------------------------


def firehose_role_arn(emu: Any, cfg: Config) -> str:
    stack = emu.client("cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "FirehoseRoleArn")


def wait_stream_gone(emu: Any, name: str, deadline_s: float = 60.0) -> None:
    fh = emu.client("firehose")
    wait_for(
        lambda: name not in fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"],
        deadline_s,
        what=f"stream {name} to be gone",
        first=0.05,
        cap=1.0,
    )


def iceberg_config_of(emu: Any, name: str) -> dict[str, Any]:
    """A stream's Iceberg destination as a CreateDeliveryStream input."""
    desc = emu.client("firehose").describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    ice = desc["Destinations"][0]["IcebergDestinationDescription"]
    s3 = ice["S3DestinationDescription"]
    return {
        "RoleARN": ice["RoleARN"],
        "CatalogConfiguration": {"CatalogARN": ice["CatalogConfiguration"]["CatalogARN"]},
        "DestinationTableConfigurationList": [
            {
                "DestinationDatabaseName": t["DestinationDatabaseName"],
                "DestinationTableName": t["DestinationTableName"],
            }
            for t in ice["DestinationTableConfigurationList"]
        ],
        "BufferingHints": ice["BufferingHints"],
        "CloudWatchLoggingOptions": ice["CloudWatchLoggingOptions"],
        "RetryOptions": ice.get("RetryOptions", {"DurationInSeconds": 300}),
        "S3BackupMode": "FailedDataOnly",
        "AppendOnly": ice.get("AppendOnly", False),
        "S3Configuration": {
            "RoleARN": s3["RoleARN"],
            "BucketARN": s3["BucketARN"],
            "ErrorOutputPrefix": s3.get("ErrorOutputPrefix", ""),
        },
    }
