"""Iceberg tables as the emulator's S3 Tables defines them: types, schemas and partition specs from the
S3 Tables API's (and CloudFormation's) field lists, and the table bucket ARNs the store is keyed by.

pyiceberg loads lazily (on the first table), as in store.py.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pyiceberg loads lazily: it costs ~1 s of emulator start-up and ~80 MB RSS
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import Transform
    from pyiceberg.types import IcebergType


@functools.cache
def _primitives() -> dict[str, IcebergType]:
    from pyiceberg.types import (
        BinaryType,
        BooleanType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
        TimestampType,
        TimestamptzType,
        TimeType,
        UUIDType,
    )

    return {
        "boolean": BooleanType(),
        "int": IntegerType(),
        "integer": IntegerType(),
        "long": LongType(),
        "float": FloatType(),
        "double": DoubleType(),
        "string": StringType(),
        "binary": BinaryType(),
        "date": DateType(),
        "time": TimeType(),
        "timestamp": TimestampType(),
        "timestamptz": TimestamptzType(),
        "uuid": UUIDType(),
    }


DECIMAL_RE = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_PARAM_TRANSFORM_RE = re.compile(r"^(bucket|truncate)\[(\d+)\]$")
FIRST_PARTITION_FIELD_ID = 1000


class IcebergStoreError(ValueError):
    """A table definition the store cannot build (bad type, transform or source id)."""


def iceberg_type(name: str) -> IcebergType:
    from pyiceberg.types import DecimalType

    key = name.strip().lower()
    if key in _primitives():
        return _primitives()[key]
    match = DECIMAL_RE.match(key)
    if match:
        return DecimalType(int(match.group(1)), int(match.group(2)))
    raise IcebergStoreError(f"unsupported Iceberg type {name!r}")


def build_schema(schema_fields: list[dict[str, Any]]) -> Schema:
    """CFN ``SchemaFieldList`` ({Name, Type, Required, Id?}) -> Iceberg schema (ids 1.. when not given)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    fields = []
    used: set[int] = {int(f["Id"]) for f in schema_fields if f.get("Id") is not None}
    next_id = 1
    for f in schema_fields:
        if f.get("Id") is not None:
            field_id = int(f["Id"])
        else:
            while next_id in used:
                next_id += 1
            field_id = next_id
            used.add(field_id)
        required = f.get("Required", False)
        if isinstance(required, str):
            required = required.lower() == "true"
        fields.append(
            NestedField(field_id, str(f["Name"]), iceberg_type(str(f["Type"])), required=bool(required))
        )
    return Schema(*fields)


def _transform(name: str) -> Transform[Any, Any]:
    from pyiceberg.transforms import (
        BucketTransform,
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        TruncateTransform,
        VoidTransform,
        YearTransform,
    )

    key = name.strip().lower()
    simple: dict[str, Transform[Any, Any]] = {
        "identity": IdentityTransform(),
        "year": YearTransform(),
        "month": MonthTransform(),
        "day": DayTransform(),
        "hour": HourTransform(),
        "void": VoidTransform(),
    }
    if key in simple:
        return simple[key]
    match = _PARAM_TRANSFORM_RE.match(key)
    if match:
        n = int(match.group(2))
        return BucketTransform(n) if match.group(1) == "bucket" else TruncateTransform(n)
    raise IcebergStoreError(f"unsupported partition transform {name!r}")


def build_partition_spec(schema: Schema, partition_fields: list[dict[str, Any]] | None) -> PartitionSpec:
    """CFN ``IcebergPartitionSpec.Fields`` ({SourceId, Transform, Name, FieldId?}) -> PartitionSpec."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec

    fields = []
    for i, f in enumerate(partition_fields or []):
        source_id = int(f["SourceId"])
        try:
            source = schema.find_field(source_id)
        except ValueError as exc:
            raise IcebergStoreError(f"partition field SourceId {source_id} is not a column id") from exc
        transform = _transform(str(f["Transform"]))
        name = str(f.get("Name") or f"{source.name}_{str(f['Transform']).lower()}")
        field_id = int(f["FieldId"]) if f.get("FieldId") is not None else FIRST_PARTITION_FIELD_ID + i
        fields.append(PartitionField(source_id=source_id, field_id=field_id, transform=transform, name=name))
    return PartitionSpec(*fields)


def bucket_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The table bucket's ARN, the store's key for it."""
    return f"arn:{partition}:s3tables:{region}:{account_id}:bucket/{name}"


def split_bucket_arn(arn: str) -> tuple[str, str, str]:
    """``arn:PARTITION:s3tables:REGION:ACCOUNT:bucket/NAME`` -> (account, region, name)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "s3tables" or not parts[5].startswith("bucket/"):
        raise IcebergStoreError(f"not a table bucket ARN: {arn!r}")
    return parts[4], parts[3], parts[5].removeprefix("bucket/")
