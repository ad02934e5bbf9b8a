"""Failed records to the error bucket (JSON lines under ErrorOutputPrefix) and the CloudWatch Logs stream."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from emulator.firehose import iam_policy
from emulator.firehose.iam_policy import _log_need, firehose_can_assume
from emulator.firehose.models import (
    DeliveryStream,
    Failure,
    now_ms,
)
from emulator.iam.policy import Need, find_role, first_denied

log = logging.getLogger("emulator.firehose")


def _expand_prefix(prefix: str, when: datetime) -> str:
    """Firehose's ErrorOutputPrefix namespaces; without a timestamp expression the default YYYY/MM/dd/HH/."""
    out = prefix.replace("!{firehose:error-output-type}", "iceberg-failed")
    out = out.replace("!{firehose:random-string}", uuid.uuid4().hex[:11])
    has_ts = "!{timestamp:" in out
    while "!{timestamp:" in out:
        start = out.index("!{timestamp:")
        end = out.index("}", start)
        fmt = out[start + len("!{timestamp:") : end]
        java = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]
        for j, p in java:
            fmt = fmt.replace(j, p)
        out = out[:start] + when.strftime(fmt) + out[end + 1 :]
    if not has_ts:
        out += when.strftime("%Y/%m/%d/%H/")
    return out


def _error_key_prefix(stream: DeliveryStream, s3: dict[str, Any], when: datetime) -> str:
    return _expand_prefix(str(s3.get("ErrorOutputPrefix") or ""), when) + stream.name


def _error_write(stream: DeliveryStream, config: dict[str, Any]) -> tuple[str, Any | None, Need | None]:
    """(role ARN, role, s3:PutObject need) for error objects; the S3 configuration's role writes them."""
    s3 = config.get("S3DestinationDescription") or {}
    bucket = str(s3.get("BucketARN", "")).rsplit(":", 1)[-1]
    if not bucket:
        return "", None, None
    role_arn = str(s3.get("RoleARN") or config.get("RoleARN") or "")
    key = _error_key_prefix(stream, s3, datetime.now(UTC))
    return (
        role_arn,
        find_role(stream.account_id, role_arn),
        iam_policy.error_object_need(stream.region, bucket, key),
    )


def write_errors(
    stream: DeliveryStream, config: dict[str, Any], version: int, failures: list[Failure], attempts: int
) -> None:
    ended = now_ms()
    lines = [
        json.dumps(
            {
                "attemptsMade": attempts,
                "arrivalTimestamp": f.item.arrival_ms,
                "errorCode": f.code,
                "errorMessage": f.message,
                "attemptEndingTimestamp": ended,
                "rawData": base64.b64encode(f.item.data).decode(),
            },
            separators=(",", ":"),
        )
        for f in failures
    ]
    s3 = config.get("S3DestinationDescription") or {}
    bucket = str(s3.get("BucketARN", "")).rsplit(":", 1)[-1]
    when = datetime.now(UTC)
    key = (
        _expand_prefix(str(s3.get("ErrorOutputPrefix") or ""), when)
        + f"{stream.name}-{version}-{when.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}"
    )
    role_arn, role, need = _error_write(stream, config)
    # Only a role Firehose can assume has its policies evaluated for error output; for one it cannot, the
    # records still reach the error bucket and the log (Iceberg.RoleAssumptionFailed).
    if firehose_can_assume(role, stream) and need is not None and first_denied(role, [need]):
        log.warning(
            "Firehose %s: role %s may not write s3://%s/%s: records lost", stream.name, role_arn, bucket, key
        )
        _log_errors(stream, config, version, failures)
        return
    try:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        s3_backends[stream.account_id][get_partition(stream.region)].put_object(
            bucket, key, ("\n".join(lines) + "\n").encode()
        )
    except Exception as exc:  # a missing error bucket loses the records, as on AWS
        log.warning(
            "Firehose %s: cannot write error records to s3://%s/%s: %s", stream.name, bucket, key, exc
        )
    _log_errors(stream, config, version, failures)


def _log_errors(
    stream: DeliveryStream, config: dict[str, Any], version: int, failures: list[Failure]
) -> None:
    opts = config.get("CloudWatchLoggingOptions") or {}
    group, log_stream = opts.get("LogGroupName"), opts.get("LogStreamName")
    if not opts.get("Enabled") or not group or not log_stream:
        return
    role = find_role(stream.account_id, str(config.get("RoleARN", "")))
    need = _log_need(stream, config)
    if firehose_can_assume(role, stream) and need is not None and first_denied(role, [need]):
        return  # the role may not write its log stream: AWS drops the log events too
    by_error: dict[tuple[str, str], int] = {}
    for f in failures:
        by_error[(f.code, f.message)] = by_error.get((f.code, f.message), 0) + 1
    ts = now_ms()
    events = [
        {
            "timestamp": ts,
            "message": json.dumps(
                {
                    "deliveryStreamARN": stream.arn,
                    "destination": "Iceberg",
                    "deliveryStreamVersionId": version,
                    "errorCode": code,
                    "message": message,
                    "recordCount": count,
                }
            ),
        }
        for (code, message), count in by_error.items()
    ]
    try:
        from moto.logs.models import logs_backends

        logs_backends[stream.account_id][stream.region].put_log_events(group, log_stream, events)
    except Exception as exc:  # the log group or stream does not exist: AWS drops the log too
        log.debug("Firehose %s: no CloudWatch Logs %s/%s: %s", stream.name, group, log_stream, exc)
