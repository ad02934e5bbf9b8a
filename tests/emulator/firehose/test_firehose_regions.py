"""The local AWS's CreateDeliveryStream with an Iceberg destination fails where AWS has none, and takes
another partition's region with that partition's ARNs only."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tasks import config as cfg
from tests.emulator import helpers as eh
from tests.unit.lake.test_regions import ACCOUNT, REFUSED


def _client(emulator: Any, service: str, region: str) -> Any:
    return boto3.session.Session().client(  # type: ignore[call-overload]  # a service named at run time
        service,
        endpoint_url=emulator.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _iceberg(region: str) -> dict[str, Any]:
    part = cfg.partition(region)
    config = eh.iceberg_destination(f"arn:{part}:iam::{ACCOUNT}:role/fh", "tb", "logs", "errs", "errors/")
    config["CatalogConfiguration"]["CatalogARN"] = (
        f"arn:{part}:glue:{region}:{ACCOUNT}:catalog/s3tablescatalog/tb"
    )
    config["S3Configuration"]["BucketARN"] = f"arn:{part}:s3:::errs"
    return config


@pytest.mark.parametrize("region", REFUSED)
def test_emulator_refuses_iceberg_streams_where_aws_has_none(emulator: Any, region: str) -> None:
    fh = _client(emulator, "firehose", region)
    with pytest.raises(ClientError) as exc:
        fh.create_delivery_stream(DeliveryStreamName="ice", IcebergDestinationConfiguration=_iceberg(region))
    assert exc.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
    # Only Iceberg is missing there: an S3 destination is still created.
    part = cfg.partition(region)
    fh.create_delivery_stream(
        DeliveryStreamName="s3",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:{part}:iam::{ACCOUNT}:role/fh",
            "BucketARN": f"arn:{part}:s3:::errs",
        },
    )
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == ["s3"]


def test_emulator_creates_iceberg_streams_in_other_partitions_with_their_arn(emulator: Any) -> None:
    region = "us-iso-east-1"
    fh = _client(emulator, "firehose", region)
    arn = fh.create_delivery_stream(
        DeliveryStreamName="ice", IcebergDestinationConfiguration=_iceberg(region)
    )["DeliveryStreamARN"]
    assert arn == f"arn:aws-iso:firehose:{region}:{ACCOUNT}:deliverystream/ice"


@pytest.mark.parametrize("field", ["RoleARN", "CatalogARN", "BucketARN"])
def test_emulator_refuses_an_arn_of_another_partition(emulator: Any, field: str) -> None:
    region = "us-iso-east-1"
    config = _iceberg(region)
    if field == "RoleARN":
        config["RoleARN"] = f"arn:aws:iam::{ACCOUNT}:role/fh"
    elif field == "CatalogARN":
        config["CatalogConfiguration"]["CatalogARN"] = (
            f"arn:aws:glue:{region}:{ACCOUNT}:catalog/s3tablescatalog/tb"
        )
    else:
        config["S3Configuration"]["BucketARN"] = "arn:aws:s3:::errs"
    fh = _client(emulator, "firehose", region)
    with pytest.raises(ClientError) as exc:
        fh.create_delivery_stream(DeliveryStreamName="ice", IcebergDestinationConfiguration=config)
    assert exc.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
