"""Firehose's backend for Iceberg destinations: one method per operation, as moto's backends have.

moto's Firehose keeps a stream as a dict and drops Iceberg data on the floor; here a stream (data.py) buffers
records per its BufferingHints, and the scheduler (scheduler.py) delivers them into real Iceberg tables
after the checks AWS makes (delivery.py). Records that cannot be delivered go to the error bucket and to the
stream's CloudWatch Logs stream; AWS/Firehose metrics are written into moto's CloudWatch.

The backend holds the streams of every account and region and knows nothing of delivery: whoever moves
records listens (``listen``) and is woken when records arrive or a destination changes. Streams go through
CREATING and DELETING while the faults say so (emulator/admin/faults.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from emulator.admin import faults
from emulator.cloudwatch import metrics as cloudwatch_metrics
from emulator.firehose.data import (
    DESTINATION_ID,
    METRIC_NAMESPACE,
    DeliveryStream,
    Pending,
    new_record_id,
    now_ms,
    s3_description,
)
from emulator.firehose.exceptions import (
    ConcurrentModificationException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)

StreamKey = tuple[str, str, str]  # (account, region, name)


def not_found(name: str, account_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Firehose {name} under account {account_id} not found.")


class FirehoseBackend:
    """All Iceberg-destination streams of the process, keyed by (account, region, name)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.streams: dict[StreamKey, DeliveryStream] = {}
        self._fault_rng: tuple[Any, random.Random] | None = None
        self._listeners: list[Callable[[], None]] = []

    def listen(self, fn: Callable[[], None]) -> None:
        """``fn()`` runs, under ``lock``, whenever records arrive or a destination changes."""
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in self._listeners:
            fn()

    # -- lifecycle ----------------------------------------------------------------------------------
    def refresh(self, key: StreamKey, now: float) -> DeliveryStream | None:
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

    # -- control plane ------------------------------------------------------------------------------
    def create_delivery_stream(self, stream: DeliveryStream, exists_elsewhere: bool) -> DeliveryStream:
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

    def describe_delivery_stream(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        desc = self.require(account_id, region, name).description()
        if faults.omits("firehose.AppendOnly"):
            for dest in desc["Destinations"]:
                dest["IcebergDestinationDescription"] = {
                    k: v for k, v in dest["IcebergDestinationDescription"].items() if k != "AppendOnly"
                }
        return desc

    def delete_delivery_stream(
        self, account_id: str, region: str, name: str, allow_force: bool = False
    ) -> None:
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
            stream.drop_records()  # abandoned, as AWS does with data not yet delivered
            failing = None if allow_force else faults.take("firehose_stream_failures", "delete")
            if latency > 0 or failing:
                stream.status = "DELETING"
                stream.deleting_since = time.monotonic()
            else:
                del self.streams[key]
            if failing:
                stream.fails_as = "DELETING_FAILED"
                stream.failure = {"Type": failing["type"], "Details": failing["details"]}

    def list_delivery_streams(
        self,
        account_id: str,
        region: str,
        others: dict[str, str],
        stream_type: str | None,
        start: str | None,
        limit: int,
    ) -> tuple[list[str], bool]:
        """Our streams and ``others`` (moto's: name -> type), by name: (a page of names, more to come)."""
        entries = {**dict(self.names(account_id, region)), **others}
        names = sorted(n for n, t in entries.items() if stream_type in (None, t))
        if start:
            names = [n for n in names if n > start]
        return names[:limit], len(names) > limit

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
            self._changed()

    def tag_delivery_stream(
        self, account_id: str, region: str, name: str, tags: list[dict[str, str]]
    ) -> None:
        with self.lock:
            stream = self.require(account_id, region, name)
            current = {t["Key"]: t.get("Value", "") for t in stream.tags}
            for t in tags:
                current[t["Key"]] = t.get("Value", "")
            if len(current) > 50:
                raise LimitExceededException("A Firehose stream can have at most 50 tags.")
            stream.tags = [{"Key": k, "Value": v} for k, v in current.items()]

    def untag_delivery_stream(self, account_id: str, region: str, name: str, keys: list[str]) -> None:
        with self.lock:
            stream = self.require(account_id, region, name)
            stream.tags = [t for t in stream.tags if t["Key"] not in set(keys)]

    def list_tags_for_delivery_stream(
        self, account_id: str, region: str, name: str, start: str | None, limit: int
    ) -> tuple[list[dict[str, str]], bool]:
        """A page of the stream's tags by key, and whether more follow."""
        tags = sorted(self.require(account_id, region, name).tags, key=lambda t: t["Key"])
        if start:
            tags = [t for t in tags if t["Key"] > start]
        return tags[:limit], len(tags) > limit

    # -- data plane ---------------------------------------------------------------------------------
    def put_record(self, account_id: str, region: str, name: str, data: bytes) -> str:
        """The new record's id (a stalled stream answers only after its latency: faults.stall)."""
        faults.stall(faults.PUT_SECONDS)
        return self._put(account_id, region, name, [data], batch=False)[0]["RecordId"]

    def put_record_batch(
        self, account_id: str, region: str, name: str, records: list[bytes]
    ) -> list[dict[str, str]]:
        """One response entry per record, in order: a RecordId, or an error (put_record_failures)."""
        faults.stall(faults.PUT_SECONDS)
        return self._put(account_id, region, name, records, batch=True)

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

    def _put(
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
            self._changed()
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
                stream.drop_records()


firehose_backend = FirehoseBackend()
