"""Firehose with Iceberg destinations in the emulator: the control plane's API shapes and the limits."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.firehose.streams_setup import (
    BUCKET,
    ERROR_BUCKET,
    code,
    iceberg_config,
    make_stream,
    put,
)
from tests.emulator.helpers import ACCOUNT, NAMESPACE, REGION


# -- control plane ------------------------------------------------------------------------------------
def test_describe_has_the_botocore_iceberg_shape(env: dict[str, Any]) -> None:
    name = make_stream(env)
    desc = env["fh"].describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert desc["DeliveryStreamStatus"] == "ACTIVE"
    assert desc["VersionId"] == "1"
    assert desc["DeliveryStreamARN"] == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}"
    dest = desc["Destinations"][0]
    assert dest["DestinationId"] == "destinationId-000000000001"
    ice = dest["IcebergDestinationDescription"]
    assert ice["AppendOnly"] is True
    assert ice["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 0}
    assert ice["RoleARN"] == env["role"]
    assert ice["RetryOptions"] == {"DurationInSeconds": 0}
    assert ice["S3BackupMode"] == "FailedDataOnly"
    assert ice["CloudWatchLoggingOptions"]["LogStreamName"] == "logs"
    assert ice["CatalogConfiguration"]["CatalogARN"].endswith(f"catalog/s3tablescatalog/{BUCKET}")
    assert ice["DestinationTableConfigurationList"] == [
        {"DestinationDatabaseName": NAMESPACE, "DestinationTableName": "logs"}
    ]
    s3 = ice["S3DestinationDescription"]
    assert s3["ErrorOutputPrefix"] == "errors/logs/"
    assert s3["BucketARN"] == f"arn:aws:s3:::{ERROR_BUCKET}"
    assert s3["CompressionFormat"] == "UNCOMPRESSED"
    assert name in env["fh"].list_delivery_streams()["DeliveryStreamNames"]


def test_duplicate_missing_and_delete(env: dict[str, Any]) -> None:
    name = make_stream(env)
    with pytest.raises(ClientError) as exc:
        make_stream(env)
    assert code(exc) == "ResourceInUseException"
    env["fh"].delete_delivery_stream(DeliveryStreamName=name)
    with pytest.raises(ClientError) as exc:
        env["fh"].describe_delivery_stream(DeliveryStreamName=name)
    assert code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        env["fh"].delete_delivery_stream(DeliveryStreamName=name)
    assert code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"{}"])
    assert code(exc) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"BufferingHints": {"SizeInMBs": 129, "IntervalInSeconds": 60}}, "ValidationException"),
        ({"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 901}}, "ValidationException"),
        ({"BufferingHints": {"SizeInMBs": 5}}, "InvalidArgumentException"),
        ({"RetryOptions": {"DurationInSeconds": 7201}}, "ValidationException"),
        ({"S3BackupMode": "AllData"}, "InvalidArgumentException"),
    ],
)
def test_create_validation(env: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    config = iceberg_config(env["role"])
    config.update(change)
    with pytest.raises(ClientError) as exc:
        env["fh"].create_delivery_stream(DeliveryStreamName="bad", IcebergDestinationConfiguration=config)
    assert code(exc) == expected
    assert "bad" not in env["fh"].list_delivery_streams()["DeliveryStreamNames"]


def test_update_destination_versions_and_append_only(env: dict[str, Any]) -> None:
    name = make_stream(env)
    fh = env["fh"]
    update = {"BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 120}}
    with pytest.raises(ClientError) as exc:
        fh.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId="7",
            DestinationId="destinationId-000000000001",
            IcebergDestinationUpdate=update,
        )
    assert code(exc) == "ConcurrentModificationException"
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        IcebergDestinationUpdate=update,
    )
    desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert desc["VersionId"] == "2"
    ice = desc["Destinations"][0]["IcebergDestinationDescription"]
    assert ice["BufferingHints"] == {"SizeInMBs": 64, "IntervalInSeconds": 120}
    assert ice["AppendOnly"] is True  # not named in the update: stays as created
    assert "LastUpdateTimestamp" in desc
    with pytest.raises(ClientError) as exc:  # the version moved on: "1" is stale now
        fh.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            IcebergDestinationUpdate=update,
        )
    assert code(exc) == "ConcurrentModificationException"
    with pytest.raises(ClientError) as exc:
        fh.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId="2",
            DestinationId="destinationId-000000000001",
            IcebergDestinationUpdate={"AppendOnly": False},
        )
    assert code(exc) == "InvalidArgumentException"
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="2",
        DestinationId="destinationId-000000000001",
        IcebergDestinationUpdate={
            "S3Configuration": {
                "RoleARN": env["role"],
                "BucketARN": f"arn:aws:s3:::{ERROR_BUCKET}",
                "ErrorOutputPrefix": "other/",
            }
        },
    )
    desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert desc["VersionId"] == "3"
    s3 = desc["Destinations"][0]["IcebergDestinationDescription"]["S3DestinationDescription"]
    assert s3["ErrorOutputPrefix"] == "other/"


# -- limits -------------------------------------------------------------------------------------------
def test_501_records_is_a_validation_error(env: dict[str, Any]) -> None:
    name = make_stream(env)
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"{}"] * 501)
    assert code(exc) == "ValidationException"
    assert "less than or equal to 500" in exc.value.response["Error"]["Message"]


def test_record_over_1000_kib_is_a_validation_error(env: dict[str, Any]) -> None:
    name = make_stream(env)
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"{}", b"x" * 1_024_001])
    assert code(exc) == "ValidationException"
    assert "records.2.member.data" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        env["fh"].put_record(DeliveryStreamName=name, Record={"Data": b"x" * 1_024_001})
    assert code(exc) == "ValidationException"
    # exactly at the limit is accepted
    assert put(env, name, [b"x" * 1_024_000])["FailedPutCount"] == 0


def test_call_over_4_mib_is_an_invalid_argument(env: dict[str, Any]) -> None:
    name = make_stream(env)
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"x" * 1_000_000] * 5)
    assert code(exc) == "InvalidArgumentException"
    assert "4 MiB" in exc.value.response["Error"]["Message"]


def test_append_only_turns_on_in_place_keeping_what_the_stream_buffers_and_never_off(
    env: dict[str, Any],
) -> None:
    """UpdateDestination takes AppendOnly false -> true on the same stream (terraform-provider-aws 43067 and
    its PR 43647 report AWS does), with the records it buffers; true -> false is refused."""
    from tasks.records import encode, make_records
    from tests.emulator.firehose.streams_setup import rows

    fh, name = env["fh"], "fh-append-only"
    config = {**iceberg_config(env["role"], interval=900), "AppendOnly": False}
    fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut", IcebergDestinationConfiguration=config
    )
    before = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert before["Destinations"][0]["IcebergDestinationDescription"]["AppendOnly"] is False
    assert put(env, name, [encode(r) for r in make_records("logs", "run-ao", 25)])["FailedPutCount"] == 0
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId=before["VersionId"],
        DestinationId=before["Destinations"][0]["DestinationId"],
        IcebergDestinationUpdate={"AppendOnly": True},
    )
    after = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert after["Destinations"][0]["IcebergDestinationDescription"]["AppendOnly"] is True
    assert (after["DeliveryStreamARN"], after["CreateTimestamp"]) == (
        before["DeliveryStreamARN"],
        before["CreateTimestamp"],
    )
    assert int(after["VersionId"]) == int(before["VersionId"]) + 1
    assert rows() == []  # still buffered (900 s): the update kept them
    assert env["emu"].flush()["delivered"] == 25
    assert sorted(r["service_instance_id"] for r in rows()) == sorted(f"run-ao:{i}" for i in range(25))
    with pytest.raises(ClientError) as exc:
        fh.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId=after["VersionId"],
            DestinationId=after["Destinations"][0]["DestinationId"],
            IcebergDestinationUpdate={"AppendOnly": False},
        )
    assert code(exc) == "InvalidArgumentException"
