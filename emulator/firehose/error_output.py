"""Failed records to the error bucket (JSON lines under ErrorOutputPrefix) and the CloudWatch Logs stream."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from emulator.firehose.data import DeliveryStream, Failure, error_bucket, error_prefix, now_ms
from emulator.firehose.needs import error_object_access, firehose_can_assume, log_need
from emulator.iam.policy import find_role, first_denied

log = logging.getLogger("emulator.firehose")


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
    bucket = error_bucket(config)
    when = datetime.now(UTC)
    stamp = when.strftime("%Y-%m-%d-%H-%M-%S")
    key = error_prefix(config, when) + f"{stream.name}-{version}-{stamp}-{uuid.uuid4()}"
    role_arn, role, need = error_object_access(stream, config)
    # Only a role Firehose can assume has its policies evaluated for error output; for one it cannot, the
    # records still reach the error bucket and the log (Iceberg.RoleAssumptionFailed).
    if firehose_can_assume(role, stream) and need is not None and first_denied(role, [need]):
        log.warning(
            "Firehose %s: role %s may not write s3://%s/%s: records lost", stream.name, role_arn, bucket, key
        )
        log_errors(stream, config, version, failures)
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
    log_errors(stream, config, version, failures)


def log_errors(stream: DeliveryStream, config: dict[str, Any], version: int, failures: list[Failure]) -> None:
    opts = config.get("CloudWatchLoggingOptions") or {}
    group, log_stream = opts.get("LogGroupName"), opts.get("LogStreamName")
    if not opts.get("Enabled") or not group or not log_stream:
        return
    role = find_role(stream.account_id, str(config.get("RoleARN", "")))
    need = log_need(stream, config)
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
