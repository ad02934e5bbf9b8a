"""Firehose request validation, as AWS's front end reports it before any stream is looked at.

Input is checked against the botocore model (``ValidationException`` "N validation errors detected: Value
... at 'path' failed to satisfy constraint: ..."), record payloads against the PutRecord(Batch) limits, and
an Iceberg destination against the regions and the configurations the emulator supports
(``InvalidArgumentException``).
"""

from __future__ import annotations

import binascii
import functools
import re
from typing import Any

from emulator.firehose.exceptions import (
    InvalidArgumentException,
    SerializationException,
    ValidationException,
)

MAX_RECORDS_PER_CALL = 500
MAX_RECORD_BYTES = 1_024_000
MAX_CALL_BYTES = 4 * 1024 * 1024


# -- model-driven validation ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("firehose")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'"


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _check_range(meta: dict[str, Any], measure: int, what: str, prefix: str, errors: list[str]) -> None:
    """The model's ``max``/``min``: on the length of lists and strings, on the value of numbers."""
    if "max" in meta and measure > meta["max"]:
        errors.append(
            f"{prefix} failed to satisfy constraint: Member must have {what} less than or equal to "
            f"{meta['max']}"
        )
    if "min" in meta and measure < meta["min"]:
        errors.append(
            f"{prefix} failed to satisfy constraint: Member must have {what} greater than or equal to "
            f"{meta['min']}"
        )


def _check(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    prefix = f"Value {_fmt(value) if kind not in ('structure', 'list', 'map') else _fmt('[...]')} at '{path}'"
    if kind == "structure":
        if not isinstance(value, dict):
            return
        for req in shape.required_members:
            if value.get(req) is None:
                errors.append(
                    f"Value null at '{path + '.' if path else ''}{_lower_first(req)}' failed to satisfy "
                    "constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], f"{path + '.' if path else ''}{_lower_first(name)}", errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            return
        _check_range(meta, len(value), "length", prefix, errors)
        for i, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{i}.member", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            return
        if "enum" in meta and value not in meta["enum"]:
            errors.append(
                f"{prefix} failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(meta['enum'])}]"
            )
            return
        _check_range(meta, len(value), "length", prefix, errors)
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            errors.append(
                f"{prefix} failed to satisfy constraint: Member must satisfy regular expression pattern: "
                f"{pattern}"
            )
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return
        _check_range(meta, value, "value", prefix, errors)


def _validation_error(errors: list[str]) -> ValidationException:
    """AWS's ValidationException: the count of all violations, the text of the first ten."""
    n = len(errors)
    return ValidationException(
        f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors[:10]),
    )


def validate(operation: str, body: dict[str, Any]) -> None:
    """Raise AWS's ValidationException for the first ten constraint violations of ``body``."""
    shape = _service_model().operation_model(operation).input_shape
    errors: list[str] = []
    _check(shape, body, "", errors)
    if errors:
        raise _validation_error(errors)


# -- records -----------------------------------------------------------------------------------------
def _blob(value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise SerializationException(f"Expected a base64 string at '{path}'.")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise SerializationException(f"Invalid base64 data at '{path}'.") from exc


def _too_big(size: int, path: str) -> str:
    return (
        f"Value 'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]' at '{path}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {MAX_RECORD_BYTES}"
    )


def decode_records(body: dict[str, Any]) -> list[bytes]:
    """PutRecordBatch limits, checked as AWS does before looking at the stream."""
    records = body.get("Records")
    if not isinstance(records, list) or not records:
        raise ValidationException(
            "1 validation error detected: Value "
            f"{'null' if records is None else _fmt('[]')} at 'records' failed to satisfy constraint: "
            + (
                "Member must not be null"
                if records is None
                else "Member must have length greater than or equal to 1"
            ),
        )
    if len(records) > MAX_RECORDS_PER_CALL:
        raise ValidationException(
            f"1 validation error detected: Value '[...{len(records)} records]' at 'records' failed "
            "to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_RECORDS_PER_CALL}",
        )
    datas: list[bytes] = []
    errors: list[str] = []
    for i, rec in enumerate(records, start=1):
        raw = rec.get("Data") if isinstance(rec, dict) else None
        if raw is None:
            errors.append(
                f"Value null at 'records.{i}.member.data' failed to satisfy constraint: "
                "Member must not be null"
            )
            continue
        data = _blob(raw, f"records.{i}.member.data")
        if len(data) > MAX_RECORD_BYTES:
            errors.append(_too_big(len(data), f"records.{i}.member.data"))
        datas.append(data)
    if errors:
        raise _validation_error(errors)
    total = sum(len(d) for d in datas)
    if total > MAX_CALL_BYTES:
        raise InvalidArgumentException("Records size exceeds 4 MiB limit")
    return datas


def decode_record(body: dict[str, Any]) -> bytes:
    """PutRecord's record, checked as AWS does before looking at the stream."""
    record = body.get("Record")
    raw = record.get("Data") if isinstance(record, dict) else None
    if raw is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'record' failed to "
            "satisfy constraint: Member must not be null",
        )
    data = _blob(raw, "record.data")
    if len(data) > MAX_RECORD_BYTES:
        raise ValidationException("1 validation error detected: " + _too_big(len(data), "record.data"))
    return data


# -- destinations ------------------------------------------------------------------------------------
# Where AWS offers no Apache Iceberg destination (Firehose developer guide, Apache Iceberg "Considerations
# and limitations"; aws-facts.md "Regions"): whole partitions, and single regions of `aws`.
NO_ICEBERG_PARTITIONS = ("aws-cn", "aws-us-gov")
NO_ICEBERG_REGIONS = ("ap-east-2", "ap-southeast-5", "ap-southeast-6", "mx-central-1")


def check_region(region: str) -> None:
    from moto.utilities.utils import get_partition

    if get_partition(region) in NO_ICEBERG_PARTITIONS or region in NO_ICEBERG_REGIONS:
        raise InvalidArgumentException(
            f"Apache Iceberg Tables destination is not supported in region {region}.",
        )


def check_partition(config: dict[str, Any], region: str, path: str) -> None:
    """A role, catalog or bucket ARN of another partition can never be reached from this region."""
    from moto.utilities.utils import get_partition

    want = get_partition(region)
    s3 = config.get("S3Configuration") or {}
    catalog = config.get("CatalogConfiguration") or {}
    for where, arn in (
        ("RoleARN", config.get("RoleARN")),
        ("CatalogConfiguration.CatalogARN", catalog.get("CatalogARN")),
        ("S3Configuration.RoleARN", s3.get("RoleARN")),
        ("S3Configuration.BucketARN", s3.get("BucketARN")),
    ):
        if isinstance(arn, str) and arn.startswith("arn:") and arn.split(":")[1] != want:
            raise InvalidArgumentException(
                f"{path}.{where} {arn} is not in partition {want} of region {region}.",
            )


def check_destination(config: dict[str, Any], path: str) -> None:
    """What the emulator's Iceberg destinations support: buffering hints in range, FailedDataOnly backup."""
    check_buffering(config.get("BufferingHints"), path)
    s3 = config.get("S3Configuration") or {}
    check_buffering(s3.get("BufferingHints"), f"{path}.S3Configuration")
    if config.get("S3BackupMode", "FailedDataOnly") != "FailedDataOnly":
        raise InvalidArgumentException(
            "S3BackupMode AllData is not supported for Apache Iceberg destinations: use FailedDataOnly.",
        )


def check_buffering(hints: dict[str, Any] | None, where: str) -> None:
    """aws-facts.md: BufferingHints takes both members or neither."""
    if hints is None:
        return
    if ("SizeInMBs" in hints) != ("IntervalInSeconds" in hints):
        raise InvalidArgumentException(
            f"{where}.BufferingHints: SizeInMBs and IntervalInSeconds must be specified together "
            "or not at all.",
        )
