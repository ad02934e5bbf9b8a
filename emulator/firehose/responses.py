"""Firehose wire protocol (JSON 1.1) for Iceberg-destination streams, registered in emulator.core.registry.

Streams with an Iceberg destination are ours (models.STATE); any other stream is left to moto (handlers
return None). Input validation follows the botocore model the way AWS's front end reports it:
``ValidationException`` "N validation errors detected: Value ... at 'path' failed to satisfy constraint: ...".
"""

from __future__ import annotations

import binascii
import functools
import re
from typing import Any

from emulator.admin import faults
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.firehose import models
from emulator.firehose.models import STATE, AwsError

SERVICE = "firehose"


# -- model-driven validation ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


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


def _validation_error(errors: list[str]) -> AwsError:
    """AWS's ValidationException: the count of all violations, the text of the first ten."""
    n = len(errors)
    return AwsError(
        "ValidationException",
        f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors[:10]),
    )


def validate(operation: str, body: dict[str, Any]) -> None:
    """Raise AWS's ValidationException for the first ten constraint violations of ``body``."""
    shape = _service_model().operation_model(operation).input_shape
    errors: list[str] = []
    _check(shape, body, "", errors)
    if errors:
        raise _validation_error(errors)


# -- helpers ------------------------------------------------------------------------------------------
def _moto_backend(req: OverrideRequest) -> Any:
    from moto.firehose.models import firehose_backends

    return firehose_backends[req.account_id][req.region]


def _moto_has(req: OverrideRequest, name: str) -> bool:
    try:
        return name in _moto_backend(req).delivery_streams
    except Exception:
        return False


def _ours(req: OverrideRequest) -> models.DeliveryStream | None:
    name = req.body.get("DeliveryStreamName")
    if not isinstance(name, str):
        return None
    return STATE.get(req.account_id, req.region, name)


def _blob(value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise AwsError("SerializationException", f"Expected a base64 string at '{path}'.")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise AwsError("SerializationException", f"Invalid base64 data at '{path}'.") from exc


def _too_big(size: int, path: str) -> str:
    return (
        f"Value 'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]' at '{path}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {models.MAX_RECORD_BYTES}"
    )


def decode_records(body: dict[str, Any]) -> list[bytes]:
    """PutRecordBatch limits, checked as AWS does before looking at the stream."""
    records = body.get("Records")
    if not isinstance(records, list) or not records:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value "
            f"{'null' if records is None else _fmt('[]')} at 'records' failed to satisfy constraint: "
            + (
                "Member must not be null"
                if records is None
                else "Member must have length greater than or equal to 1"
            ),
        )
    if len(records) > models.MAX_RECORDS_PER_CALL:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '[...{len(records)} records]' at 'records' failed "
            "to satisfy "
            f"constraint: Member must have length less than or equal to {models.MAX_RECORDS_PER_CALL}",
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
        if len(data) > models.MAX_RECORD_BYTES:
            errors.append(_too_big(len(data), f"records.{i}.member.data"))
        datas.append(data)
    if errors:
        raise _validation_error(errors)
    total = sum(len(d) for d in datas)
    if total > models.MAX_CALL_BYTES:
        raise AwsError("InvalidArgumentException", "Records size exceeds 4 MiB limit")
    return datas


# -- control plane ------------------------------------------------------------------------------------
# Where AWS offers no Apache Iceberg destination (Firehose developer guide, Apache Iceberg "Considerations
# and limitations"; aws-facts.md "Regions"): whole partitions, and single regions of `aws`.
NO_ICEBERG_PARTITIONS = ("aws-cn", "aws-us-gov")
NO_ICEBERG_REGIONS = ("ap-east-2", "ap-southeast-5", "ap-southeast-6", "mx-central-1")


def _check_region(region: str) -> None:
    from moto.utilities.utils import get_partition

    if get_partition(region) in NO_ICEBERG_PARTITIONS or region in NO_ICEBERG_REGIONS:
        raise AwsError(
            "InvalidArgumentException",
            f"Apache Iceberg Tables destination is not supported in region {region}.",
        )


def _check_partition(config: dict[str, Any], region: str, path: str) -> None:
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
            raise AwsError(
                "InvalidArgumentException",
                f"{path}.{where} {arn} is not in partition {want} of region {region}.",
            )


def _check_destination(config: dict[str, Any], path: str) -> None:
    """What the emulator's Iceberg destinations support: buffering hints in range, FailedDataOnly backup."""
    models.check_buffering(config.get("BufferingHints"), path)
    s3 = config.get("S3Configuration") or {}
    models.check_buffering(s3.get("BufferingHints"), f"{path}.S3Configuration")
    if config.get("S3BackupMode", "FailedDataOnly") != "FailedDataOnly":
        raise AwsError(
            "InvalidArgumentException",
            "S3BackupMode AllData is not supported for Apache Iceberg destinations: use FailedDataOnly.",
        )


@register(SERVICE, "CreateDeliveryStream")
def create_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    body = req.body
    config = body.get("IcebergDestinationConfiguration")
    name = body.get("DeliveryStreamName")
    if config is None:
        if isinstance(name, str) and STATE.get(req.account_id, req.region, name) is not None:
            raise AwsError(
                "ResourceInUseException", f"Firehose {name} under accountId {req.account_id} already exists"
            )
        return None
    validate("CreateDeliveryStream", body)
    _check_region(req.region)
    _check_partition(config, req.region, "IcebergDestinationConfiguration")
    destinations = [k for k in body if k.endswith("DestinationConfiguration") and body[k] is not None]
    if len(destinations) != 1:
        raise AwsError(
            "InvalidArgumentException",
            "Exactly one destination configuration is supported for a Firehose stream.",
        )
    stream_type = body.get("DeliveryStreamType") or "DirectPut"
    if stream_type != "DirectPut":
        raise AwsError(
            "InvalidArgumentException",
            f"DeliveryStreamType {stream_type} is not supported by the emulator for Iceberg "
            "destinations: use DirectPut.",
        )
    _check_destination(config, "IcebergDestinationConfiguration")
    stream = models.DeliveryStream(
        account_id=req.account_id,
        region=req.region,
        name=str(name),
        stream_type=stream_type,
        iceberg=models.iceberg_description(config),
        tags=list(body.get("Tags") or []),
        encryption=_encryption(body.get("DeliveryStreamEncryptionConfigurationInput")),
    )
    STATE.create(stream, exists_elsewhere=_moto_has(req, str(name)))
    return json_response({"DeliveryStreamARN": stream.arn})


def _encryption(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    out = {"KeyType": config.get("KeyType", "AWS_OWNED_CMK"), "Status": "ENABLED"}
    if config.get("KeyARN"):
        out["KeyARN"] = config["KeyARN"]
    return out


@register(SERVICE, "DescribeDeliveryStream")
def describe_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    desc = stream.description()
    if faults.omits("firehose.AppendOnly"):
        for dest in desc["Destinations"]:
            dest["IcebergDestinationDescription"] = {
                k: v for k, v in dest["IcebergDestinationDescription"].items() if k != "AppendOnly"
            }
    return json_response({"DeliveryStreamDescription": desc})


@register(SERVICE, "DeleteDeliveryStream")
def delete_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    STATE.delete(req.account_id, req.region, stream.name, bool(req.body.get("AllowForceDelete")))
    return json_response({})


@register(SERVICE, "ListDeliveryStreams")
def list_delivery_streams(req: OverrideRequest) -> OverrideResponse | None:
    ours = STATE.names(req.account_id, req.region)
    if not ours:
        return None
    validate("ListDeliveryStreams", req.body)
    entries = dict(ours)
    try:
        for name, s in _moto_backend(req).delivery_streams.items():
            entries[name] = s.delivery_stream_type
    except Exception:
        pass
    wanted_type = req.body.get("DeliveryStreamType")
    names = sorted(n for n, t in entries.items() if wanted_type in (None, t))
    start = req.body.get("ExclusiveStartDeliveryStreamName")
    if start:
        names = [n for n in names if n > start]
    limit = int(req.body.get("Limit") or 10)
    return json_response({"DeliveryStreamNames": names[:limit], "HasMoreDeliveryStreams": len(names) > limit})


@register(SERVICE, "UpdateDestination")
def update_destination(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    validate("UpdateDestination", req.body)
    updates = [k for k in req.body if k.endswith("DestinationUpdate") and req.body[k] is not None]
    if updates != ["IcebergDestinationUpdate"]:
        raise AwsError(
            "InvalidArgumentException",
            f"Firehose {stream.name} has an Iceberg destination: give exactly one "
            "IcebergDestinationUpdate (changing the destination type is not supported).",
        )
    update = req.body["IcebergDestinationUpdate"]
    _check_destination(update, "IcebergDestinationUpdate")
    STATE.update_destination(
        req.account_id,
        req.region,
        stream.name,
        str(req.body["CurrentDeliveryStreamVersionId"]),
        str(req.body["DestinationId"]),
        update,
    )
    return json_response({})


@register(SERVICE, "TagDeliveryStream")
def tag_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    validate("TagDeliveryStream", req.body)
    STATE.tag(stream, list(req.body.get("Tags") or []))
    return json_response({})


@register(SERVICE, "UntagDeliveryStream")
def untag_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    STATE.untag(stream, list(req.body.get("TagKeys") or []))
    return json_response({})


@register(SERVICE, "ListTagsForDeliveryStream")
def list_tags(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    tags = sorted(stream.tags, key=lambda t: t["Key"])
    start = req.body.get("ExclusiveStartTagKey")
    if start:
        tags = [t for t in tags if t["Key"] > start]
    limit = int(req.body.get("Limit") or 50)
    return json_response({"Tags": tags[:limit], "HasMoreTags": len(tags) > limit})


# -- data plane ---------------------------------------------------------------------------------------
@register(SERVICE, "PutRecordBatch")
def put_record_batch(req: OverrideRequest) -> OverrideResponse | None:
    datas = decode_records(req.body)  # limits hold for every stream, moto's too
    stream = _ours(req)
    if stream is None:
        return None
    responses = STATE.put_records(req.account_id, req.region, stream.name, datas, batch=True)
    failed = sum(1 for r in responses if "ErrorCode" in r)
    return json_response({"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses})


@register(SERVICE, "PutRecord")
def put_record(req: OverrideRequest) -> OverrideResponse | None:
    record = req.body.get("Record")
    raw = record.get("Data") if isinstance(record, dict) else None
    if raw is None:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value null at 'record' failed to "
            "satisfy constraint: Member must not be null",
        )
    data = _blob(raw, "record.data")
    if len(data) > models.MAX_RECORD_BYTES:
        raise AwsError(
            "ValidationException", "1 validation error detected: " + _too_big(len(data), "record.data")
        )
    stream = _ours(req)
    if stream is None:
        return None
    responses = STATE.put_records(req.account_id, req.region, stream.name, [data], batch=False)
    return json_response({"RecordId": responses[0]["RecordId"], "Encrypted": False})
