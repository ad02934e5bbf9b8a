"""Firehose state for Iceberg destinations: streams, buffers, and delivery into real Iceberg tables.

moto's Firehose keeps a stream as a dict and drops Iceberg data on the floor; here a stream buffers records
per its BufferingHints and a background thread delivers them (one Iceberg commit per flush, never per
record) after the checks AWS makes: the role is assumable by Firehose, Lake Formation grants DESCRIBE on the
database and ALL/INSERT on the table. Records that cannot be delivered go to the error bucket as JSON lines
and to the stream's CloudWatch Logs stream, and AWS/Firehose metrics are written into moto's CloudWatch.

As on AWS, a delivery that fails for the destination's sake (role, catalog, grants, table, commit) is retried
with backoff for ``RetryOptions.DurationInSeconds`` before its records go to the error bucket (with
``attemptsMade``); a record the table cannot take (bad JSON, a missing column, a wrong type) goes at once.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulator.admin import faults, options
from emulator.cloudwatch import metrics as cloudwatch_metrics
from emulator.core.exceptions import AwsError
from emulator.firehose import iam_policy
from emulator.iceberg.store import get_store

if TYPE_CHECKING:  # pyarrow loads with the first delivery, not at emulator start-up
    import pyarrow as pa

log = logging.getLogger("emulator.firehose")

DESTINATION_ID = "destinationId-000000000001"
MAX_RECORDS_PER_CALL = 500
MAX_RECORD_BYTES = 1_024_000
MAX_CALL_BYTES = 4 * 1024 * 1024
MIB = 1024 * 1024
DEFAULT_SIZE_MB = 5
DEFAULT_INTERVAL_S = 300
DEFAULT_RETRY_S = 300
METRIC_NAMESPACE = "AWS/Firehose"
# Deliveries of one stream start at least this far apart: an Iceberg commit costs ~25 ms of Python whatever
# its size, so under load the background thread coalesces into fewer, larger commits (AWS's buffering
# hints are hints too). flush_all() ignores it.
MIN_DELIVERY_GAP_S = 0.5
# Backoff between attempts of a failed delivery (AWS does not publish its own), capped by the retry window.
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 30.0

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

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1)
_RECORD_ID_PREFIX = uuid.uuid4().hex
_record_counter = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def new_record_id() -> str:
    """Unique per record (AWS's are opaque strings too)."""
    return f"{_RECORD_ID_PREFIX}{next(_record_counter):012x}"


def not_found(name: str, account_id: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Firehose {name} under account {account_id} not found.")


# -- stream -------------------------------------------------------------------------------------------
@dataclass
class Pending:
    arrival_ms: int
    data: bytes


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
    ready_at: float = 0.0  # monotonic time CREATING ends
    gone_at: float | None = None  # monotonic time DELETING ends
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

    def due_in(self, now: float) -> float | None:
        """Seconds until the buffer or a failed batch is due (<= 0: now), None when there is nothing."""
        dues = [r.next_at - now for r in self.retrying]
        if self.buffer:
            due = (
                self.first_arrival
                if self.buffer_bytes >= self.size_limit
                else self.first_arrival + self.interval
            )
            dues.append(max(due, self.last_delivery + MIN_DELIVERY_GAP_S) - now)
        return min(dues) if dues else None

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


def check_buffering(hints: dict[str, Any] | None, where: str) -> None:
    """aws-facts.md: BufferingHints takes both members or neither."""
    if hints is None:
        return
    if ("SizeInMBs" in hints) != ("IntervalInSeconds" in hints):
        raise AwsError(
            "InvalidArgumentException",
            f"{where}.BufferingHints: SizeInMBs and IntervalInSeconds must be specified together "
            "or not at all.",
        )


# -- backend ------------------------------------------------------------------------------------------
@dataclass
class Counters:
    delivered: int = 0
    failed: int = 0


class FirehoseState:
    """All Iceberg-destination streams of the process, keyed by (account, region, name)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.streams: dict[tuple[str, str, str], DeliveryStream] = {}
        self.counters = Counters()
        self._cond = threading.Condition(self.lock)
        self._thread: threading.Thread | None = None
        self._fault_rng: tuple[Any, random.Random] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def _refresh(self, key: tuple[str, str, str], now: float) -> DeliveryStream | None:
        stream = self.streams.get(key)
        if stream is None:
            return None
        if stream.status == "CREATING" and now >= stream.ready_at:
            stream.status = stream.fails_as or "ACTIVE"
            stream.fails_as = None
        if stream.status == "DELETING" and stream.gone_at is not None and now >= stream.gone_at:
            if stream.fails_as is None:
                del self.streams[key]
                return None
            stream.status, stream.fails_as, stream.gone_at = stream.fails_as, None, None
        return stream

    def get(self, account_id: str, region: str, name: str) -> DeliveryStream | None:
        with self.lock:
            return self._refresh((account_id, region, name), time.monotonic())

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
                stream = self._refresh(key, now)
                if stream is not None:
                    out.append((stream.name, stream.stream_type))
            return out

    def create(self, stream: DeliveryStream, exists_elsewhere: bool) -> DeliveryStream:
        latency = float((faults.get("latency") or {}).get("firehose_stream_seconds", 0) or 0)
        key = (stream.account_id, stream.region, stream.name)
        with self.lock:
            if exists_elsewhere or self._refresh(key, time.monotonic()) is not None:
                raise AwsError(
                    "ResourceInUseException",
                    f"Firehose {stream.name} under accountId {stream.account_id} already exists",
                )
            failing = faults.take("firehose_stream_failures", "create")
            if latency > 0 or failing:
                stream.status = "CREATING"
                stream.ready_at = time.monotonic() + latency
            if failing:
                stream.fails_as = "CREATING_FAILED"
                stream.failure = {"Type": failing["type"], "Details": failing["details"]}
            self.streams[key] = stream
        return stream

    def delete(self, account_id: str, region: str, name: str, allow_force: bool = False) -> None:
        latency = float((faults.get("latency") or {}).get("firehose_stream_seconds", 0) or 0)
        key = (account_id, region, name)
        with self.lock:
            stream = self._refresh(key, time.monotonic())
            if stream is None:
                raise not_found(name, account_id)
            if stream.status == "CREATING":
                raise AwsError(
                    "ResourceInUseException",
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
                stream.gone_at = time.monotonic() + latency
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
                raise AwsError(
                    "ResourceInUseException",
                    f"Firehose {name} under account {account_id} is in {stream.status} state; "
                    "UpdateDestination needs an ACTIVE stream.",
                )
            if str(current_version) != str(stream.version):
                raise AwsError(
                    "ConcurrentModificationException",
                    f"Firehose {name} under account {account_id} is at version {stream.version}, "
                    f"not {current_version}: describe it again and retry with the current VersionId.",
                )
            if destination_id != DESTINATION_ID:
                raise AwsError(
                    "InvalidArgumentException",
                    f"Destination Id {destination_id} not found for Firehose {name}; "
                    f"it has {DESTINATION_ID}.",
                )
            desc = dict(stream.iceberg)
            if "AppendOnly" in update and bool(desc.get("AppendOnly")) and not update["AppendOnly"]:
                raise AwsError(
                    "InvalidArgumentException",
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
            self._cond.notify_all()

    def tag(self, stream: DeliveryStream, tags: list[dict[str, str]]) -> None:
        with self.lock:
            current = {t["Key"]: t.get("Value", "") for t in stream.tags}
            for t in tags:
                current[t["Key"]] = t.get("Value", "")
            if len(current) > 50:
                raise AwsError("LimitExceededException", "A Firehose stream can have at most 50 tags.")
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
                raise AwsError(
                    "ResourceNotFoundException",
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
            self._ensure_thread()
            self._cond.notify_all()
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

    # -- delivery -----------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="firehose-delivery", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            due: list[DeliveryStream] = []
            with self.lock:
                now = time.monotonic()
                wait: float | None = None
                for key in list(self.streams):
                    stream = self._refresh(key, now)
                    if stream is None or stream.status != "ACTIVE":
                        continue
                    left = stream.due_in(now)
                    if left is None:
                        continue
                    if left <= 0:
                        due.append(stream)
                    else:
                        wait = left if wait is None else min(wait, left)
                if not due:
                    self._cond.wait(timeout=wait if wait is not None else 5.0)
                    continue
            for stream in due:
                try:
                    self.deliver(stream)
                except Exception:  # keep the thread alive whatever one delivery does
                    log.exception("delivery for Firehose %s failed", stream.name)

    def deliver(self, stream: DeliveryStream, retry_all: bool = False) -> tuple[int, int]:
        """Deliver what is buffered for ``stream`` now (one Iceberg commit), and the failed batches whose
        next attempt is due (all of them with ``retry_all``). Returns the (ok, failed) records settled."""
        with stream.deliver_lock:
            now = time.monotonic()
            with self.lock:
                items = stream.buffer
                stream.buffer = []
                stream.buffer_bytes = 0
                stream.last_delivery = now
                config = stream.iceberg
                version = stream.version
                due = [r for r in stream.retrying if retry_all or r.next_at <= now]
                stream.retrying = [r for r in stream.retrying if r not in due]
            batches = ([Retrying(items, 0, now + stream.retry_seconds, now)] if items else []) + due
            ok = failed = 0
            for batch in batches:
                attempts = batch.attempts + 1
                final = time.monotonic() >= batch.give_up_at
                got, lost, again = deliver_batch(stream, config, version, batch.items, attempts, final)
                ok, failed = ok + got, failed + lost
                if again:
                    wait = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_CAP_S)
                    next_at = min(time.monotonic() + wait, batch.give_up_at)
                    with self.lock:
                        stream.retrying.append(Retrying(again, attempts, batch.give_up_at, next_at))
                        self._cond.notify_all()
                    self._ensure_thread()
            with self.lock:
                self.counters.delivered += ok
                self.counters.failed += failed
            return ok, failed

    def retrying(self) -> int:
        with self.lock:
            return sum(len(r.items) for s in self.streams.values() for r in s.retrying)

    def flush_all(self) -> dict[str, int]:
        """Deliver every buffer now (and retry every failed batch once, now); wait for deliveries in flight.
        Counts since the previous flush, plus ``retrying``: records still inside their retry window."""
        with self.lock:
            streams = list(self.streams.values())
        for stream in streams:
            if stream.status in ("ACTIVE",):
                self.deliver(stream, retry_all=True)
            else:
                with stream.deliver_lock:  # wait for a delivery in flight
                    pass
        with self.lock:
            result = {"delivered": self.counters.delivered, "failed": self.counters.failed}
            self.counters = Counters()
        waiting = self.retrying()
        if waiting:
            result["retrying"] = waiting
        return result

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
        with self.lock:
            self.counters = Counters()


STATE = FirehoseState()


# -- delivery of one batch ----------------------------------------------------------------------------
@dataclass
class Failure:
    item: Pending
    code: str
    message: str


def parse_catalog_arn(arn: str) -> tuple[str, str] | None:
    """``arn:aws:glue:REGION:ACCOUNT:catalog/s3tablescatalog/BUCKET`` -> (account, bucket)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "glue":
        return None
    resource = parts[5].split("/")
    if len(resource) != 3 or resource[0] != "catalog" or resource[1] != "s3tablescatalog" or not resource[2]:
        return None
    return parts[4], resource[2]


def deliver_batch(
    stream: DeliveryStream,
    config: dict[str, Any],
    version: int,
    items: list[Pending],
    attempts: int = 1,
    final: bool = True,
) -> tuple[int, int, list[Pending]]:
    """One attempt at ``items``: (rows landed, records sent to the error bucket, records to retry).

    Record-level failures go to the error bucket at once; failures of the destination itself (role,
    catalog, grants, table, commit) are retried unless this attempt is ``final``. Every failed attempt logs
    its errors to CloudWatch Logs, as AWS does while it retries.
    """
    tables = config.get("DestinationTableConfigurationList") or []
    catalog = parse_catalog_arn(str((config.get("CatalogConfiguration") or {}).get("CatalogARN", "")))
    failures: list[Failure] = []  # record-level: to the error bucket at once
    destination_failures: list[Failure] = []  # the destination's: retried until the retry window ends
    ok_rows = 0
    ok_bytes = 0
    commits = 0
    problem: tuple[str, str] | None = None
    if catalog is None:
        problem = (
            ERR_CATALOG,
            "CatalogConfiguration.CatalogARN must name an S3 Tables catalog: "
            "arn:aws:glue:REGION:ACCOUNT:catalog/s3tablescatalog/BUCKET.",
        )
    elif not tables:
        problem = (ERR_NO_TABLE, "No DestinationTableConfigurationList entry: no table to deliver to.")
    if problem is None and catalog is not None:
        # Only one table per stream is routed here: no JQ / Lambda / metadata routing in the emulator.
        database = str(tables[0]["DestinationDatabaseName"])
        table = str(tables[0]["DestinationTableName"])
        problem = check_access(
            stream, str(config.get("RoleARN", "")), catalog[0], catalog[1], database, table, config
        )
        if problem is None:
            store = get_store()
            try:
                schema = store.schema(catalog[1], database, table)
            except Exception:
                problem = (
                    ERR_NO_TABLE,
                    f"Table {database}.{table} not found in catalog "
                    f"{catalog[0]}:s3tablescatalog/{catalog[1]}.",
                )
            else:
                converter = RecordConverter(schema)
                arrow = converter.fast(items)
                landed = items
                if arrow is None:
                    good, bad = converter.convert(items)
                    failures.extend(bad)
                    landed = [it for it, _ in good]
                    arrow = converter.to_arrow(good) if good else None
                if arrow is not None:
                    try:
                        store.append(catalog[1], database, table, arrow)
                    except Exception as exc:
                        log.exception("Iceberg commit to %s.%s failed", database, table)
                        destination_failures = [
                            Failure(it, ERR_COMMIT, f"Iceberg commit failed: {exc}") for it in landed
                        ]
                    else:
                        commits = 1
                        ok_rows = len(landed)
                        ok_bytes = sum(len(it.data) for it in landed)
    if problem is not None:
        failures, destination_failures = [], [Failure(it, problem[0], problem[1]) for it in items]
    again: list[Pending] = []
    if destination_failures and not final:
        again = [f.item for f in destination_failures]
        _log_errors(stream, config, version, destination_failures)
    else:
        failures += destination_failures
    if failures:
        write_errors(stream, config, version, failures, attempts)
    oldest = min(it.arrival_ms for it in items)
    cloudwatch_metrics.put(
        stream.account_id,
        stream.region,
        METRIC_NAMESPACE,
        {"DeliveryStreamName": stream.name},
        {
            "DeliveryToIceberg.IncomingRowCount": (len(items) if attempts == 1 else 0, "Count"),
            "DeliveryToIceberg.SuccessfulRowCount": (ok_rows, "Count"),
            "DeliveryToIceberg.FailedRowCount": (len(failures), "Count"),
            "DeliveryToIceberg.Success": (commits, "Count"),
            "DeliveryToIceberg.Bytes": (ok_bytes, "Bytes"),
            "DeliveryToIceberg.DataFreshness": (max(0.0, (now_ms() - oldest) / 1000.0), "Seconds"),
        },
    )
    return ok_rows, len(failures), again


# -- access checks ------------------------------------------------------------------------------------
def _role_trusts_firehose(role: Any) -> bool:
    try:
        doc = role.assume_role_policy_document
        policy = json.loads(doc) if isinstance(doc, str) else doc
    except (ValueError, TypeError):
        return False
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = st.get("Principal", {})
        if principal == "*":
            return True
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if "firehose.amazonaws.com" in services:
            return True
    return False


def find_role(account_id: str, role_arn: str) -> Any | None:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account_id]["global"].get_role_by_arn(role_arn)
    except Exception:
        return None


def check_access(
    stream: DeliveryStream,
    role_arn: str,
    catalog_account: str,
    bucket: str,
    database: str,
    table: str,
    config: dict[str, Any] | None = None,
) -> tuple[str, str] | None:
    """What AWS checks before writing: (error code, message) of the first missing piece, or None.

    In AWS's order: the role can be assumed, its IAM policies allow every call of the delivery
    (iam_policy.py, moto's evaluation), the catalog exists, Lake Formation grants the table."""
    role = find_role(stream.account_id, role_arn)
    if role is None or not _role_trusts_firehose(role):
        why = (
            "it does not exist"
            if role is None
            else "its trust policy does not let firehose.amazonaws.com assume it"
        )
        return (
            ERR_ROLE,
            f"Unable to assume role {role_arn}: {why}. Firehose needs sts:AssumeRole for "
            "principal firehose.amazonaws.com.",
        )
    denied = _iam_denied(stream, role_arn, role, catalog_account, bucket, database, table, config or {})
    if denied is not None:
        return denied
    catalog_id = f"{catalog_account}:s3tablescatalog/{bucket}"
    missing = _catalog_missing(stream.account_id, stream.region, catalog_id)
    if missing is not None:
        return ERR_NO_CATALOG, missing
    if not lf_allows(
        stream.account_id,
        stream.region,
        role_arn,
        {"Database": {"CatalogId": catalog_id, "Name": database}},
        ("DESCRIBE",),
    ):
        return (
            ERR_LF,
            f"Insufficient Glue permissions to access database {database} in catalog {catalog_id}: "
            f"role {role_arn} lacks Lake Formation DESCRIBE on the database.",
        )
    table_res = {"Table": {"CatalogId": catalog_id, "DatabaseName": database, "Name": table}}
    if not lf_allows(stream.account_id, stream.region, role_arn, table_res, ("ALL", "INSERT")):
        return (
            ERR_LF,
            f"Insufficient Lake Formation permissions to write table {database}.{table} in catalog "
            f"{catalog_id}: role {role_arn} lacks Lake Formation ALL (or INSERT) on the table.",
        )
    return None


def _iam_denied(
    stream: DeliveryStream,
    role_arn: str,
    role: Any,
    catalog_account: str,
    bucket: str,
    database: str,
    table: str,
    config: dict[str, Any],
) -> tuple[str, str] | None:
    """The first call of the delivery the stream role (or the S3 configuration's role) may not make."""
    needs = iam_policy.destination_needs(
        stream.account_id, stream.region, catalog_account, bucket, database, table
    )
    log_need = _log_need(stream, config)
    if log_need is not None:
        needs.append(log_need)
    denied = iam_policy.first_denied(role, needs)
    if denied is not None:
        return denied.code, iam_policy.denied_message(role_arn, denied)
    s3_role_arn, s3_role, s3_need = _error_write(stream, config)
    if s3_need is not None and s3_role is not None and iam_policy.first_denied(s3_role, [s3_need]):
        return s3_need.code, iam_policy.denied_message(s3_role_arn, s3_need)
    return None


def _assumable(role: Any) -> bool:
    """Only a role Firehose can assume has its policies evaluated for error output; for one it cannot,
    the emulator still writes the error records and logs (Iceberg.RoleAssumptionFailed), as before."""
    return role is not None and _role_trusts_firehose(role)


def _log_need(stream: DeliveryStream, config: dict[str, Any]) -> iam_policy.Need | None:
    opts = config.get("CloudWatchLoggingOptions") or {}
    group, log_stream = opts.get("LogGroupName"), opts.get("LogStreamName")
    if not opts.get("Enabled") or not group or not log_stream:
        return None
    return iam_policy.log_stream_need(stream.account_id, stream.region, str(group), str(log_stream))


def _error_key_prefix(stream: DeliveryStream, s3: dict[str, Any], when: datetime) -> str:
    return _expand_prefix(str(s3.get("ErrorOutputPrefix") or ""), when) + stream.name


def _error_write(
    stream: DeliveryStream, config: dict[str, Any]
) -> tuple[str, Any | None, iam_policy.Need | None]:
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


def _catalog_missing(account_id: str, region: str, catalog_id: str) -> str | None:
    """The seed's "Catalog not found": the s3tablescatalog Glue catalog or its table bucket is missing."""
    try:
        from emulator.glue import models as glue_catalogs
    except ImportError:
        return None
    try:
        glue_catalogs.resolve(account_id, region, catalog_id)
    except AwsError as exc:
        return (
            f"Catalog not found: {catalog_id} ({exc.message}). The federated s3tablescatalog Glue catalog "
            "and the table bucket must exist."
        )
    return None


def lf_allows(
    account_id: str, region: str, principal: str, resource: dict[str, Any], any_of: Iterable[str]
) -> bool:
    """Lake Formation check through emulator.lakeformation.has_permission when present, else moto's grants."""
    wanted = tuple(any_of)
    try:
        from emulator.lakeformation import models as lakeformation
    except ImportError:
        lakeformation = None  # type: ignore[assignment]
    checker: Callable[..., bool] | None = getattr(lakeformation, "has_permission", None)
    if checker is not None:
        return any(bool(checker(account_id, region, principal, resource, perm)) for perm in wanted)
    return _moto_grants_allow(account_id, region, principal, resource, wanted)


def _moto_grants_allow(
    account_id: str, region: str, principal: str, resource: dict[str, Any], wanted: tuple[str, ...]
) -> bool:
    """Fallback: read moto's LakeFormation grants directly (exact resource match, or a table wildcard)."""
    from moto.lakeformation.models import lakeformation_backends

    backend = lakeformation_backends[account_id][region]
    kind = next(iter(resource))
    target = resource[kind]
    for catalog in list(backend.grants.values()):
        for perm in list(catalog.permissions):
            if perm.principal.get("DataLakePrincipalIdentifier") != principal:
                continue
            granted = set(perm.permissions) | set(perm.permissions_with_grant_options)
            if not granted & set(wanted):
                continue
            res = perm.resource
            if kind in res and _same_resource(res[kind], target):
                return True
            if kind == "Table" and "Table" in res:
                other = res["Table"]
                if (
                    "TableWildcard" in other
                    and other.get("CatalogId") == target.get("CatalogId")
                    and other.get("DatabaseName") == target.get("DatabaseName")
                ):
                    return True
    return False


def _same_resource(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == v for k, v in b.items())


# -- record conversion --------------------------------------------------------------------------------
class RecordConverter:
    """JSON records -> rows of the table's schema, with per-record failures (never a whole-batch one)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.arrow_schema = schema.as_arrow()
        self.columns: list[tuple[str, str, bool]] = [
            (f.name, str(f.field_type), bool(f.required)) for f in schema.fields
        ]

    def fast(self, items: list[Pending]) -> pa.Table | None:
        """The whole batch through Arrow's C JSON reader, or None when any record needs a closer look.

        Only taken when every record is one line, Arrow parses them all under the table's schema and no
        required column is null: then it accepts exactly what ``convert`` accepts, about 10x faster.
        """
        import pyarrow as pa
        import pyarrow.json as pa_json

        lines = []
        for item in items:
            data = item.data.rstrip()
            if not data or b"\n" in data or b"\r" in data:
                return None
            lines.append(data)
        if options.lenient_timestamps():
            return None  # a timestamp may be a string or a number, record by record: convert() decides
        # Timestamps are read as the integers they must be (a string fails the read: convert() then
        # refuses exactly those records), then cast to microseconds.
        read_schema = pa.schema(
            [
                pa.field(f.name, pa.int64() if pa.types.is_timestamp(f.type) else f.type, nullable=True)
                for f in self.arrow_schema
            ]
        )
        try:
            table = pa_json.read_json(
                pa.py_buffer(b"\n".join(lines) + b"\n"),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=1 << 26),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=read_schema, unexpected_field_behavior="ignore"
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        if table.num_rows != len(items):
            return None
        for name, _kind, required in self.columns:
            if required and table.column(name).null_count:
                return None
        return pa.Table.from_arrays(
            [table.column(f.name).cast(f.type) for f in self.arrow_schema], schema=self.arrow_schema
        )

    def convert(self, items: list[Pending]) -> tuple[list[tuple[Pending, list[Any]]], list[Failure]]:
        good: list[tuple[Pending, list[Any]]] = []
        bad: list[Failure] = []
        columns = self.columns
        loads = json.loads
        for item in items:
            try:
                obj = loads(item.data)
            except (ValueError, UnicodeDecodeError) as exc:
                bad.append(Failure(item, ERR_BAD_JSON, f"Record is not valid JSON: {exc}"))
                continue
            if not isinstance(obj, dict):
                bad.append(
                    Failure(item, ERR_BAD_JSON, "Record must be a JSON object whose keys are column names.")
                )
                continue
            row: list[Any] = []
            error: tuple[str, str] | None = None
            for name, kind, required in columns:
                value = obj.get(name)
                if value is None:
                    if required:
                        error = (
                            ERR_MISSING_COLUMN,
                            f"Required column {name} is missing or null in the record.",
                        )
                        break
                    row.append(None)
                    continue
                converted = _convert_value(kind, value)
                if converted is _BAD and kind in ("timestamp", "timestamptz"):
                    error = (ERR_TIMESTAMP, _timestamp_message(name, value))
                    break
                if converted is _BAD:
                    error = (ERR_TYPE, f"Column {name} of type {kind} cannot hold the value {_short(value)}.")
                    break
                row.append(converted)
            if error is not None:
                bad.append(Failure(item, error[0], error[1]))
            else:
                good.append((item, row))
        return good, bad

    def to_arrow(self, good: list[tuple[Pending, list[Any]]]) -> pa.Table:
        import pyarrow as pa

        arrays = []
        for i, f in enumerate(self.arrow_schema):
            values = [row[i] for _, row in good]
            arrays.append(pa.array(values, type=f.type))
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)


_BAD = object()


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _timestamp_message(name: str, value: Any) -> str:
    return (
        f'Column {name} of type timestamp needs integer epoch microseconds (Firehose: "For Timestamp data '
        f'types, you must always send in microseconds"), not {_short(value)}.'
    )


def _parse_timestamp_micros(value: Any) -> Any:
    """Integer epoch microseconds; ISO-8601 strings only with the lenient_timestamps option."""
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else _BAD
    if not isinstance(value, str) or not options.lenient_timestamps():
        return _BAD
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _BAD
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    delta = parsed - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _convert_value(kind: str, value: Any) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else _BAD
    if kind == "long":
        if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
            return value
        return _BAD
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and _INT32[0] <= value <= _INT32[1]:
            return value
        return _BAD
    if kind in ("double", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return _BAD
    if kind == "boolean":
        return value if isinstance(value, bool) else _BAD
    if kind in ("timestamp", "timestamptz"):
        return _parse_timestamp_micros(value)
    if kind == "date":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return (datetime.fromisoformat(value[:10]) - _EPOCH).days
            except ValueError:
                return _BAD
        return _BAD
    return _BAD  # types the OTLP tables do not use (binary, decimal, uuid, time, nested)


# -- error output -------------------------------------------------------------------------------------
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
    if _assumable(role) and need is not None and iam_policy.first_denied(role, [need]) is not None:
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
    if _assumable(role) and need is not None and iam_policy.first_denied(role, [need]) is not None:
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
