"""S3 Tables through the API in the local AWS: CreateTable with Iceberg metadata (schema, partition spec),
table ARNs that end in the table id, table maintenance, one Iceberg store per account, region and bucket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pyiceberg.table import StaticTable

from tests.emulator.helpers import error_code

NS = "otel"
FIELDS = [
    {"id": 1, "name": "timestamp", "type": "timestamp", "required": True},
    {"id": 2, "name": "service_name", "type": "string", "required": True},
    {"id": 3, "name": "flags", "type": "int", "required": False},
]
DAY = {"fields": [{"sourceId": 1, "transform": "day", "name": "timestamp_day", "fieldId": 1000}]}


def s3tables(emu: Any, region: str = "us-east-1") -> Any:
    from lake import sessions

    return sessions.session().client(
        "s3tables",
        endpoint_url=emu.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def bucket(emu: Any, name: str = "api-tables", region: str = "us-east-1") -> str:
    s3t = s3tables(emu, region)
    arn = str(s3t.create_table_bucket(name=name)["arn"])
    s3t.create_namespace(tableBucketARN=arn, namespace=[NS])
    return arn


def create(
    emu: Any, arn: str, name: str = "logs", region: str = "us-east-1", **iceberg: Any
) -> dict[str, Any]:
    metadata = {"iceberg": {"schema": {"fields": FIELDS}, "partitionSpec": DAY, **iceberg}}
    s3t = emu.client("s3tables", region_name=region)
    return dict(
        s3t.create_table(tableBucketARN=arn, namespace=NS, name=name, format="ICEBERG", metadata=metadata)
    )


def iceberg(emu: Any, arn: str, name: str = "logs", region: str = "us-east-1") -> Any:
    s3t = s3tables(emu, region)
    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace=NS, name=name)["metadataLocation"]
    return StaticTable.from_metadata(loc)


def test_create_table_keeps_the_field_ids_and_the_partition_spec_and_the_arn_ends_in_the_table_id(emulator):
    arn = bucket(emulator)
    made = create(emulator, arn)
    assert re.fullmatch(
        re.escape(arn) + r"/table/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", made["tableARN"]
    )
    got = emulator.client("s3tables").get_table(tableBucketARN=arn, namespace=NS, name="logs")
    assert got["tableARN"] == made["tableARN"]
    table = iceberg(emulator, arn)
    assert [(f.field_id, f.name, str(f.field_type), f.required) for f in table.schema().fields] == [
        (1, "timestamp", "timestamp", True),
        (2, "service_name", "string", True),
        (3, "flags", "int", False),
    ]
    (part,) = table.spec().fields
    assert (part.source_id, str(part.transform), part.name, part.field_id) == (
        1,
        "day",
        "timestamp_day",
        1000,
    )


def test_create_table_refuses_a_partition_on_a_column_that_is_not_there(emulator):
    arn = bucket(emulator)
    bad = {"fields": [{"sourceId": 9, "transform": "day", "name": "x_day", "fieldId": 1000}]}
    with pytest.raises(ClientError) as err:
        create(emulator, arn, partitionSpec=bad)
    assert error_code(err) == "BadRequestException"
    assert emulator.client("s3tables").list_tables(tableBucketARN=arn)["tables"] == []


def test_maintenance_starts_at_the_documented_defaults_and_put_replaces_one_type(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    s3t = emulator.client("s3tables")
    got = s3t.get_table_maintenance_configuration(tableBucketARN=arn, namespace=NS, name="logs")
    assert got["configuration"] == {
        "icebergCompaction": {
            "status": "enabled",
            "settings": {"icebergCompaction": {"targetFileSizeMB": 512, "strategy": "auto"}},
        },
        "icebergSnapshotManagement": {
            "status": "enabled",
            "settings": {"icebergSnapshotManagement": {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120}},
        },
    }  # fmt: skip
    s3t.put_table_maintenance_configuration(
        tableBucketARN=arn,
        namespace=NS,
        name="logs",
        type="icebergSnapshotManagement",
        value={"status": "disabled", "settings": {"icebergSnapshotManagement": {"minSnapshotsToKeep": 3}}},
    )
    got = s3t.get_table_maintenance_configuration(tableBucketARN=arn, namespace=NS, name="logs")[
        "configuration"
    ]
    assert got["icebergSnapshotManagement"] == {
        "status": "disabled",
        "settings": {"icebergSnapshotManagement": {"minSnapshotsToKeep": 3}},
    }
    assert got["icebergCompaction"]["settings"]["icebergCompaction"]["targetFileSizeMB"] == 512


def test_maintenance_refuses_what_aws_refuses(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    s3t = emulator.client("s3tables")
    cases = {
        "target below 64 MB": (
            "icebergCompaction",
            {"settings": {"icebergCompaction": {"targetFileSizeMB": 32}}},
        ),
        "settings of the other type": (
            "icebergCompaction",
            {"settings": {"icebergSnapshotManagement": {"minSnapshotsToKeep": 1}}},
        ),
    }
    for name, (kind, value) in cases.items():
        with pytest.raises(ClientError) as err:
            s3t.put_table_maintenance_configuration(
                tableBucketARN=arn, namespace=NS, name="logs", type=kind, value=value
            )
        assert error_code(err) == "BadRequestException", name
    for missing in ("nope",):
        with pytest.raises(ClientError) as err:
            s3t.get_table_maintenance_configuration(tableBucketARN=arn, namespace=NS, name=missing)
        assert error_code(err) == "NotFoundException"
        assert "table does not exist" in str(err.value)
    with pytest.raises(ClientError) as err:
        s3t.get_table_maintenance_configuration(
            tableBucketARN=arn.replace("api-tables", "no-bucket"), namespace=NS, name="logs"
        )
    assert error_code(err) == "NotFoundException" and "bucket does not exist" in str(err.value)


def test_buckets_of_one_name_in_two_regions_hold_two_tables(emulator):
    east = bucket(emulator, "same-name", "us-east-1")
    west = bucket(emulator, "same-name", "us-west-2")
    create(emulator, east)
    metadata = {"iceberg": {"schema": {"fields": FIELDS[:2]}}}
    s3tables(emulator, "us-west-2").create_table(
        tableBucketARN=west, namespace=NS, name="logs", format="ICEBERG", metadata=metadata
    )
    assert len(iceberg(emulator, east).schema().fields) == 3
    assert len(iceberg(emulator, west, region="us-west-2").schema().fields) == 2
