"""The Firehose streams (the bash scripts' stage 4): ACTIVE, AppendOnly, buffering, logging and errors."""

from __future__ import annotations

import warnings

from botocore.exceptions import ClientError

from tasks.doctor import deploy_command
from verify import expect


def test_stream_is_active_append_only_with_configured_delivery(
    clients, config, account_id, stack_outputs, signal
):
    name = config.stream_name(signal)
    try:
        desc = clients.firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise AssertionError(f"stream {name} does not exist: run `{deploy_command(config)}`") from None
        raise
    assert desc["DeliveryStreamStatus"] == "ACTIVE", f"stream {name} is {desc['DeliveryStreamStatus']}"
    iceberg = desc["Destinations"][0].get("IcebergDestinationDescription")
    assert iceberg, f"stream {name} has no Iceberg destination: {desc['Destinations'][0]}"
    if iceberg.get("AppendOnly") is None:  # absent is unknown, not false (aws-facts.md): say so, go on
        warnings.warn(
            f"stream {name}: DescribeDeliveryStream does not return AppendOnly: unknown", stacklevel=1
        )
    assert iceberg.get("AppendOnly") in (True, None), (
        f"stream {name} shows AppendOnly: {iceberg.get('AppendOnly')} (troubleshooting: "
        f'Firehose stream shows "AppendOnly: false"): run `{deploy_command(config, repair=True)}`'
    )
    hints = iceberg.get("BufferingHints", {})
    assert hints == {
        "IntervalInSeconds": config.firehose.buffering_interval_seconds,
        "SizeInMBs": config.firehose.buffering_size_mb,
    }, f"stream {name} buffering {hints}"
    logging = iceberg.get("CloudWatchLoggingOptions", {})
    assert logging == {
        "Enabled": True,
        "LogGroupName": config.log_group_name,
        "LogStreamName": config.log_stream_name(signal),
    }, f"stream {name} logging {logging}"
    s3 = iceberg.get("S3DestinationDescription", {})
    assert s3.get("ErrorOutputPrefix") == config.error_prefix(signal), f"stream {name} error prefix {s3}"
    assert s3.get("BucketARN", "").endswith(f":::{stack_outputs['ErrorBucketName']}"), (
        f"stream {name} error bucket {s3}"
    )
    assert iceberg.get("CatalogConfiguration", {}).get("CatalogARN") == expect.catalog_arn(config, account_id)
    tables = [
        (t.get("DestinationDatabaseName"), t.get("DestinationTableName"))
        for t in iceberg.get("DestinationTableConfigurationList", [])
    ]
    assert tables == [(config.namespace, signal)], f"stream {name} writes to {tables}"
    assert iceberg.get("RoleARN") == stack_outputs["FirehoseRoleArn"], (
        f"stream {name} role {iceberg.get('RoleARN')}"
    )
