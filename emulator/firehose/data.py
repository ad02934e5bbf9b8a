"""Firehose's data: a stream with its Iceberg destination and its buffers, and the records in them.

A ``DeliveryStream`` holds its description (``IcebergDestinationDescription`` form, AWS's defaults filled
in), its lifecycle (status, version, the transitional states' start times) and what waits for delivery:
``buffer`` (records not yet attempted) and ``retrying`` (batches whose delivery failed for the
destination's sake). models.py keeps the streams; scheduler.py and delivery.py move their records.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.core import clock

DESTINATION_ID = "destinationId-000000000001"
MIB = 1024 * 1024
DEFAULT_SIZE_MB = 5
DEFAULT_INTERVAL_S = 300
DEFAULT_RETRY_S = 300
METRIC_NAMESPACE = "AWS/Firehose"

_RECORD_ID_PREFIX = uuid.uuid4().hex
_record_counter = itertools.count(1)


def now_ms() -> int:
    """Epoch milliseconds on the local AWS's clock: arrival times, error objects and DataFreshness."""
    return int(clock.now() * 1000)


def new_record_id() -> str:
    """Unique per record (AWS's are opaque strings too)."""
    return f"{_RECORD_ID_PREFIX}{next(_record_counter):012x}"


@dataclass
class Pending:
    """A record accepted by PutRecord(Batch), waiting for delivery."""

    arrival_ms: int
    data: bytes


@dataclass
class Failure:
    """A record that could not be delivered, with the error code and message its error record carries."""

    item: Pending
    code: str
    message: str


@dataclass
class Retrying:
    """A batch whose delivery failed for the destination's sake, waiting for its next attempt."""

    items: list[Pending]
    attempts: int  # made so far
    give_up_at: float  # monotonic: the end of RetryOptions.DurationInSeconds after the first failure
    next_at: float  # monotonic time of the next attempt


@dataclass
class DeliveryStream:
    account_id: str
    region: str
    name: str
    stream_type: str
    iceberg: dict[str, Any]  # IcebergDestinationDescription form
    tags: list[dict[str, str]] = field(default_factory=list)
    encryption: dict[str, Any] | None = None
    status: str = "ACTIVE"
    version: int = 1
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_update: datetime | None = None
    creating_since: float = 0.0  # monotonic time CREATING began (it lasts while faults.held says so)
    deleting_since: float | None = None  # monotonic time DELETING began (likewise)
    fails_as: str | None = None  # CREATING_FAILED / DELETING_FAILED when the transition ends (injected)
    failure: dict[str, str] | None = None  # FailureDescription
    buffer: list[Pending] = field(default_factory=list)
    buffer_bytes: int = 0
    retrying: list[Retrying] = field(default_factory=list)
    first_arrival: float = 0.0  # monotonic time of the oldest buffered record
    last_delivery: float = float("-inf")  # monotonic time the last delivery started
    deliver_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def arn(self) -> str:
        from moto.utilities.utils import get_partition

        prefix = f"arn:{get_partition(self.region)}:firehose:{self.region}:{self.account_id}"
        return f"{prefix}:deliverystream/{self.name}"

    @property
    def size_limit(self) -> int:
        return int(self.iceberg.get("BufferingHints", {}).get("SizeInMBs", DEFAULT_SIZE_MB)) * MIB

    @property
    def interval(self) -> float:
        return float(self.iceberg.get("BufferingHints", {}).get("IntervalInSeconds", DEFAULT_INTERVAL_S))

    @property
    def retry_seconds(self) -> float:
        return float(self.iceberg.get("RetryOptions", {}).get("DurationInSeconds", DEFAULT_RETRY_S))

    def drop_records(self) -> None:
        """Abandon what waits for delivery (a deleted stream, a reset)."""
        self.buffer = []
        self.buffer_bytes = 0
        self.retrying = []

    def description(self) -> dict[str, Any]:
        desc: dict[str, Any] = {
            "DeliveryStreamName": self.name,
            "DeliveryStreamARN": self.arn,
            "DeliveryStreamStatus": self.status,
            "DeliveryStreamType": self.stream_type,
            "VersionId": str(self.version),
            "CreateTimestamp": self.created,
            "Destinations": [
                {"DestinationId": DESTINATION_ID, "IcebergDestinationDescription": self.iceberg}
            ],
            "HasMoreDestinations": False,
            "DeliveryStreamEncryptionConfiguration": self.encryption or {"Status": "DISABLED"},
        }
        if self.last_update is not None:
            desc["LastUpdateTimestamp"] = self.last_update
        if self.failure is not None:
            desc["FailureDescription"] = self.failure
        return desc


def iceberg_description(config: dict[str, Any]) -> dict[str, Any]:
    """IcebergDestinationConfiguration -> IcebergDestinationDescription, with AWS's defaults filled in."""
    desc = {k: v for k, v in config.items() if k != "S3Configuration"}
    desc.setdefault("BufferingHints", {"SizeInMBs": DEFAULT_SIZE_MB, "IntervalInSeconds": DEFAULT_INTERVAL_S})
    desc.setdefault("CloudWatchLoggingOptions", {"Enabled": False})
    desc.setdefault("RetryOptions", {"DurationInSeconds": DEFAULT_RETRY_S})
    desc.setdefault("S3BackupMode", "FailedDataOnly")
    desc.setdefault("AppendOnly", False)
    desc.setdefault("DestinationTableConfigurationList", [])
    desc["S3DestinationDescription"] = s3_description(config.get("S3Configuration", {}))
    return desc


def s3_description(s3: dict[str, Any]) -> dict[str, Any]:
    out = dict(s3)
    out.setdefault("BufferingHints", {"SizeInMBs": DEFAULT_SIZE_MB, "IntervalInSeconds": DEFAULT_INTERVAL_S})
    out.setdefault("CompressionFormat", "UNCOMPRESSED")
    out.setdefault("EncryptionConfiguration", {"NoEncryptionConfig": "NoEncryption"})
    out.setdefault("CloudWatchLoggingOptions", {"Enabled": False})
    return out


# -- where failed records go ------------------------------------------------------------------------
def error_bucket(config: dict[str, Any]) -> str:
    """The error bucket's name, from the destination's S3 configuration ("" when none)."""
    s3 = config.get("S3DestinationDescription") or {}
    return str(s3.get("BucketARN", "")).rsplit(":", 1)[-1]


def expand_prefix(prefix: str, when: datetime) -> str:
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


def error_prefix(config: dict[str, Any], when: datetime) -> str:
    """The expanded ErrorOutputPrefix of the destination's S3 configuration at ``when``."""
    s3 = config.get("S3DestinationDescription") or {}
    return expand_prefix(str(s3.get("ErrorOutputPrefix") or ""), when)
