"""Firehose wire protocol (JSON 1.1) for Iceberg-destination streams, registered in emulator.core.registry.

Streams with an Iceberg destination are ours (the backend, models.py); any other stream is left to moto
(handlers return None). Requests are checked first as AWS's front end does (validation.py); then each
handler calls the backend's method of its operation.
"""

from __future__ import annotations

from typing import Any

from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.firehose.data import DeliveryStream, iceberg_description
from emulator.firehose.exceptions import InvalidArgumentException, ResourceInUseException
from emulator.firehose.models import firehose_backend as backend
from emulator.firehose.validation import (
    check_destination,
    check_partition,
    check_region,
    decode_record,
    decode_records,
    validate,
)

SERVICE = "firehose"


# -- helpers ------------------------------------------------------------------------------------------
def _moto_backend(req: OverrideRequest) -> Any:
    from moto.firehose.models import firehose_backends

    return firehose_backends[req.account_id][req.region]


def _moto_has(req: OverrideRequest, name: str) -> bool:
    try:
        return name in _moto_backend(req).delivery_streams
    except Exception:
        return False


def _ours(req: OverrideRequest) -> DeliveryStream | None:
    name = req.body.get("DeliveryStreamName")
    if not isinstance(name, str):
        return None
    return backend.get(req.account_id, req.region, name)


# -- control plane ------------------------------------------------------------------------------------
@register(SERVICE, "CreateDeliveryStream")
def create_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    body = req.body
    config = body.get("IcebergDestinationConfiguration")
    name = body.get("DeliveryStreamName")
    if config is None:
        if isinstance(name, str) and backend.get(req.account_id, req.region, name) is not None:
            raise ResourceInUseException(f"Firehose {name} under accountId {req.account_id} already exists")
        return None
    validate("CreateDeliveryStream", body)
    check_region(req.region)
    check_partition(config, req.region, "IcebergDestinationConfiguration")
    destinations = [k for k in body if k.endswith("DestinationConfiguration") and body[k] is not None]
    if len(destinations) != 1:
        raise InvalidArgumentException(
            "Exactly one destination configuration is supported for a Firehose stream.",
        )
    stream_type = body.get("DeliveryStreamType") or "DirectPut"
    if stream_type != "DirectPut":
        raise InvalidArgumentException(
            f"DeliveryStreamType {stream_type} is not supported by the emulator for Iceberg "
            "destinations: use DirectPut.",
        )
    check_destination(config, "IcebergDestinationConfiguration")
    stream = DeliveryStream(
        account_id=req.account_id,
        region=req.region,
        name=str(name),
        stream_type=stream_type,
        iceberg=iceberg_description(config),
        tags=list(body.get("Tags") or []),
        encryption=_encryption(body.get("DeliveryStreamEncryptionConfigurationInput")),
    )
    backend.create_delivery_stream(stream, exists_elsewhere=_moto_has(req, str(name)))
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
    desc = backend.describe_delivery_stream(req.account_id, req.region, stream.name)
    return json_response({"DeliveryStreamDescription": desc})


@register(SERVICE, "DeleteDeliveryStream")
def delete_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    force = bool(req.body.get("AllowForceDelete"))
    backend.delete_delivery_stream(req.account_id, req.region, stream.name, force)
    return json_response({})


@register(SERVICE, "ListDeliveryStreams")
def list_delivery_streams(req: OverrideRequest) -> OverrideResponse | None:
    if not backend.names(req.account_id, req.region):
        return None
    validate("ListDeliveryStreams", req.body)
    others: dict[str, str] = {}
    try:
        for name, s in _moto_backend(req).delivery_streams.items():
            others[name] = s.delivery_stream_type
    except Exception:
        pass
    names, more = backend.list_delivery_streams(
        req.account_id,
        req.region,
        others,
        req.body.get("DeliveryStreamType"),
        req.body.get("ExclusiveStartDeliveryStreamName"),
        int(req.body.get("Limit") or 10),
    )
    return json_response({"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more})


@register(SERVICE, "UpdateDestination")
def update_destination(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    validate("UpdateDestination", req.body)
    updates = [k for k in req.body if k.endswith("DestinationUpdate") and req.body[k] is not None]
    if updates != ["IcebergDestinationUpdate"]:
        raise InvalidArgumentException(
            f"Firehose {stream.name} has an Iceberg destination: give exactly one "
            "IcebergDestinationUpdate (changing the destination type is not supported).",
        )
    update = req.body["IcebergDestinationUpdate"]
    check_destination(update, "IcebergDestinationUpdate")
    backend.update_destination(
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
    backend.tag_delivery_stream(req.account_id, req.region, stream.name, list(req.body.get("Tags") or []))
    return json_response({})


@register(SERVICE, "UntagDeliveryStream")
def untag_delivery_stream(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    keys = list(req.body.get("TagKeys") or [])
    backend.untag_delivery_stream(req.account_id, req.region, stream.name, keys)
    return json_response({})


@register(SERVICE, "ListTagsForDeliveryStream")
def list_tags(req: OverrideRequest) -> OverrideResponse | None:
    stream = _ours(req)
    if stream is None:
        return None
    tags, more = backend.list_tags_for_delivery_stream(
        req.account_id,
        req.region,
        stream.name,
        req.body.get("ExclusiveStartTagKey"),
        int(req.body.get("Limit") or 50),
    )
    return json_response({"Tags": tags, "HasMoreTags": more})


# -- data plane ---------------------------------------------------------------------------------------
@register(SERVICE, "PutRecordBatch")
def put_record_batch(req: OverrideRequest) -> OverrideResponse | None:
    datas = decode_records(req.body)  # limits hold for every stream, moto's too
    stream = _ours(req)
    if stream is None:
        return None
    responses = backend.put_record_batch(req.account_id, req.region, stream.name, datas)
    failed = sum(1 for r in responses if "ErrorCode" in r)
    return json_response({"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses})


@register(SERVICE, "PutRecord")
def put_record(req: OverrideRequest) -> OverrideResponse | None:
    data = decode_record(req.body)  # limits hold for every stream, moto's too
    stream = _ours(req)
    if stream is None:
        return None
    record_id = backend.put_record(req.account_id, req.region, stream.name, data)
    return json_response({"RecordId": record_id, "Encrypted": False})
