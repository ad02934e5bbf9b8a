"""Firehose state for Iceberg destinations: streams, buffers, and delivery into real Iceberg tables.

moto's Firehose keeps a stream as a dict and drops Iceberg data on the floor; here a stream buffers records
per its BufferingHints and a background thread delivers them (one Iceberg commit per flush, never per
record) after the checks AWS makes: the role is assumable by Firehose, Lake Formation grants DESCRIBE on the
database and ALL/INSERT on the table. Records that cannot be delivered go to the error bucket as JSON lines
and to the stream's CloudWatch Logs stream, and AWS/Firehose metrics are written into moto's CloudWatch.

As on AWS, a delivery that fails for the destination's sake (role, catalog, grants, table, commit) is retried
with backoff for ``RetryOptions.DurationInSeconds`` before its records go to the error bucket (with
``attemptsMade``); a record the table cannot take (bad JSON, a missing column, a wrong type) goes at once.

The delivery thread and its retries are scheduler.py; one delivery attempt is delivery.py; its checks
access.py (with iam_policy.py), the JSON-to-Arrow conversion records.py, and the error bucket and log writer
error_output.py. Request validation is validation.py.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.admin import faults
from emulator.cloudwatch import metrics as cloudwatch_metrics
from emulator.core import clock
from emulator.firehose.exceptions import (
    ConcurrentModificationException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.firehose.scheduler import DeliveryScheduler, Retrying

DESTINATION_ID = "destinationId-000000000001"
MIB = 1024 * 1024
DEFAULT_SIZE_MB = 5
DEFAULT_INTERVAL_S = 300
DEFAULT_RETRY_S = 300
METRIC_NAMESPACE = "AWS/Firehose"

# Error codes written into error-bucket records (AWS publishes no complete list; see the README section).
ERR_BAD_JSON = "Iceberg.InvalidRecordFormat"
ERR_MISSING_COLUMN = "Iceberg.MissingColumnWithinRecord"
ERR_TYPE = "Iceberg.DataTypeMismatch"
ERR_ROLE = "Iceberg.RoleAssumptionFailed"
ERR_LF = "Iceberg.InsufficientLakeFormationPermissions"
ERR_NO_TABLE = "Iceberg.NoSuchTable"
ERR_CATALOG = "Iceberg.InvalidCatalogARN"
ERR_NO_CATALOG = "Iceberg.CatalogNotFound"
ERR_COMMIT = "Iceberg.CommitFailed"
# A timestamp column given anything but integer epoch microseconds (Firehose's Iceberg docs: "For Timestamp
# data types, you must always send in microseconds"); ISO-8601 only with the lenient_timestamps option.
ERR_TIMESTAMP = "Iceberg.InvalidTimestamp"
# A record with a top-level key that is not a column of the table: refused unless schema evolution is on
# (third-party reports: terraform-provider-aws#47726; AWS's guide only says names "should match"). The code
# name is the local AWS's own.
ERR_UNKNOWN_COLUMN = "Iceberg.UnknownColumnWithinRecord"

_RECORD_ID_PREFIX = uuid.uuid4().hex
_record_counter = itertools.count(1)


def now_ms() -> int:
    """Epoch milliseconds on the local AWS's clock: arrival times, error objects and DataFreshness."""
    return int(clock.now() * 1000)


def new_record_id() -> str:
    """Unique per record (AWS's are opaque strings too)."""
    return f"{_RECORD_ID_PREFIX}{next(_record_counter):012x}"


def not_found(name: str, account_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Firehose {name} under account {account_id} not found.")


# -- stream -------------------------------------------------------------------------------------------
@dataclass
class Pending:
    arrival_ms: int
    data: bytes


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


# -- backend ------------------------------------------------------------------------------------------
class FirehoseState:
    """All Iceberg-destination streams of the process, keyed by (account, region, name)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.streams: dict[tuple[str, str, str], DeliveryStream] = {}
        self._fault_rng: tuple[Any, random.Random] | None = None
        self.scheduler = DeliveryScheduler(self)

    # -- lifecycle ----------------------------------------------------------------------------------
    def refresh(self, key: tuple[str, str, str], now: float) -> DeliveryStream | None:
        """The stream at ``key`` once its CREATING/DELETING transition has run its course (None: gone)."""
        stream = self.streams.get(key)
        if stream is None:
            return None
        if stream.status == "CREATING" and not faults.held(stream.creating_since, faults.STREAM_SECONDS, now):
            stream.status = stream.fails_as or "ACTIVE"
            stream.fails_as = None
        if (
            stream.status == "DELETING"
            and stream.deleting_since is not None
            and not faults.held(stream.deleting_since, faults.STREAM_SECONDS, now)
        ):
            if stream.fails_as is None:
                del self.streams[key]
                return None
            stream.status, stream.fails_as, stream.deleting_since = stream.fails_as, None, None
        return stream

    def get(self, account_id: str, region: str, name: str) -> DeliveryStream | None:
        with self.lock:
            return self.refresh((account_id, region, name), time.monotonic())

    def require(self, account_id: str, region: str, name: str) -> DeliveryStream:
        stream = self.get(account_id, region, name)
        if stream is None:
            raise not_found(name, account_id)
        return stream

    def names(self, account_id: str, region: str) -> list[tuple[str, str]]:
        """(name, type) of our streams in (account, region), after lifecycle transitions."""
        with self.lock:
            now = time.monotonic()
            keys = [k for k in self.streams if k[0] == account_id and k[1] == region]
            out = []
            for key in keys:
                stream = self.refresh(key, now)
                if stream is not None:
                    out.append((stream.name, stream.stream_type))
            return out

    def create(self, stream: DeliveryStream, exists_elsewhere: bool) -> DeliveryStream:
        latency = faults.latency(faults.STREAM_SECONDS)
        key = (stream.account_id, stream.region, stream.name)
        with self.lock:
            if exists_elsewhere or self.refresh(key, time.monotonic()) is not None:
                raise ResourceInUseException(
                    f"Firehose {stream.name} under accountId {stream.account_id} already exists",
                )
            failing = faults.take("firehose_stream_failures", "create")
            if latency > 0 or failing:
                stream.status = "CREATING"
                stream.creating_since = time.monotonic()
            if failing:
                stream.fails_as = "CREATING_FAILED"
                stream.failure = {"Type": failing["type"], "Details": failing["details"]}
            self.streams[key] = stream
        return stream

    def delete(self, account_id: str, region: str, name: str, allow_force: bool = False) -> None:
        latency = faults.latency(faults.STREAM_SECONDS)
        key = (account_id, region, name)
        with self.lock:
            stream = self.refresh(key, time.monotonic())
            if stream is None:
                raise not_found(name, account_id)
            if stream.status == "CREATING":
                raise ResourceInUseException(
                    f"Firehose {name} under account {account_id} is in CREATING state and cannot be deleted "
                    "until it is ACTIVE.",
                )
            if stream.status == "DELETING":
                return
            # Records still buffered are abandoned, as AWS does with data not yet delivered.
            stream.buffer = []
            stream.buffer_bytes = 0
            stream.retrying = []
            failing = None if allow_force else faults.take("firehose_stream_failures", "delete")
            if latency > 0 or failing:
                stream.status = "DELETING"
                stream.deleting_since = time.monotonic()
            else:
                del self.streams[key]
            if failing:
                stream.fails_as = "DELETING_FAILED"
                stream.failure = {"Type": failing["type"], "Details": failing["details"]}

    def update_destination(
        self,
        account_id: str,
        region: str,
        name: str,
        current_version: str,
        destination_id: str,
        update: dict[str, Any],
    ) -> None:
        with self.lock:
            stream = self.require(account_id, region, name)
            if stream.status != "ACTIVE":
                raise ResourceInUseException(
                    f"Firehose {name} under account {account_id} is in {stream.status} state; "
                    "UpdateDestination needs an ACTIVE stream.",
                )
            if str(current_version) != str(stream.version):
                raise ConcurrentModificationException(
                    f"Firehose {name} under account {account_id} is at version {stream.version}, "
                    f"not {current_version}: describe it again and retry with the current VersionId.",
                )
            if destination_id != DESTINATION_ID:
                raise InvalidArgumentException(
                    f"Destination Id {destination_id} not found for Firehose {name}; "
                    f"it has {DESTINATION_ID}.",
                )
            desc = dict(stream.iceberg)
            if "AppendOnly" in update and bool(desc.get("AppendOnly")) and not update["AppendOnly"]:
                raise InvalidArgumentException(
                    "AppendOnly cannot be turned off on an existing Firehose stream; delete and recreate it.",
                )
            for key, value in update.items():
                if key == "S3Configuration":
                    merged = dict(desc.get("S3DestinationDescription", {}))
                    merged.update(value)
                    desc["S3DestinationDescription"] = s3_description(merged)
                else:
                    desc[key] = value
            stream.iceberg = desc
            stream.version += 1
            stream.last_update = datetime.now(UTC)
            self.scheduler.cond.notify_all()

    def tag(self, stream: DeliveryStream, tags: list[dict[str, str]]) -> None:
        with self.lock:
            current = {t["Key"]: t.get("Value", "") for t in stream.tags}
            for t in tags:
                current[t["Key"]] = t.get("Value", "")
            if len(current) > 50:
                raise LimitExceededException("A Firehose stream can have at most 50 tags.")
            stream.tags = [{"Key": k, "Value": v} for k, v in current.items()]

    def untag(self, stream: DeliveryStream, keys: list[str]) -> None:
        with self.lock:
            stream.tags = [t for t in stream.tags if t["Key"] not in set(keys)]

    # -- puts ---------------------------------------------------------------------------------------
    def _failure_picks(self, n: int) -> set[int]:
        spec = faults.get("put_record_failures")
        if not spec:
            self._fault_rng = None
            return set()
        fraction = float(spec.get("fraction", 0.0) or 0.0)
        if fraction <= 0:
            return set()
        marker = (fraction, spec.get("seed", 0))
        if self._fault_rng is None or self._fault_rng[0] != marker:
            self._fault_rng = (marker, random.Random(spec.get("seed", 0)))
        rng = self._fault_rng[1]
        exact = min(1.0, fraction) * n
        k = int(exact)
        if rng.random() < exact - k:
            k += 1
        picks = set(rng.sample(range(n), k)) if k else set()
        if picks:
            faults.record_fired("put_record_failures", len(picks))
        return picks

    def put_records(
        self, account_id: str, region: str, name: str, records: list[bytes], batch: bool
    ) -> list[dict[str, str]]:
        """Accept records into the stream's buffer; returns one response entry per record, in order."""
        arrival = now_ms()
        with self.lock:
            stream = self.require(account_id, region, name)
            if stream.status != "ACTIVE":
                raise ResourceNotFoundException(
                    f"Firehose {name} under account {account_id} is {stream.status}, not ACTIVE: "
                    "it accepts no records.",
                )
            picks = self._failure_picks(len(records)) if batch else set()
            out: list[dict[str, str]] = []
            accepted_bytes = 0
            was_empty = not stream.buffer
            for i, data in enumerate(records):
                if i in picks:
                    out.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                    continue
                stream.buffer.append(Pending(arrival, data))
                accepted_bytes += len(data)
                out.append({"RecordId": new_record_id()})
            if was_empty and stream.buffer:
                stream.first_arrival = time.monotonic()
            stream.buffer_bytes += accepted_bytes
            accepted = len(records) - len(picks)
            self.scheduler.ensure_thread()
            self.scheduler.cond.notify_all()
        cloudwatch_metrics.put(
            account_id,
            region,
            METRIC_NAMESPACE,
            {"DeliveryStreamName": name},
            {
                "IncomingRecords": (accepted, "Count"),
                "IncomingBytes": (accepted_bytes, "Bytes"),
                "IncomingPutRequests": (1, "Count"),
            },
        )
        return out

    def reset(self) -> None:
        with self.lock:
            streams = list(self.streams.values())
            self.streams.clear()
            self._fault_rng = None
        for stream in streams:
            with stream.deliver_lock:  # let a delivery in flight finish before files are wiped
                stream.buffer = []
                stream.buffer_bytes = 0
                stream.retrying = []
        # Only now: a delivery in flight during the reset counts toward the old counters, not the new.
        self.scheduler.reset_counters()


STATE = FirehoseState()


# -- a record that could not be delivered ------------------------------------------------------
@dataclass
class Failure:
    item: Pending
    code: str
    message: str
