"""When buffered Firehose records are delivered: one background thread for every stream of the process.

A stream's buffer is due when it holds ``BufferingHints.SizeInMBs`` or ``IntervalInSeconds`` after its
oldest record; each delivery is one Iceberg commit (one attempt: delivery.py). A batch that failed for the
destination's sake is retried with backoff until ``RetryOptions.DurationInSeconds`` ends. ``flush_all``
delivers everything now (the ``/_emulator/flush`` hook). The streams themselves are the backend's
(models.py): the scheduler listens to it, and is woken when records arrive or a destination changes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from emulator.firehose import delivery
from emulator.firehose.data import DeliveryStream, Retrying
from emulator.firehose.models import FirehoseBackend

log = logging.getLogger("emulator.firehose")

# Deliveries of one stream start at least this far apart: an Iceberg commit costs ~25 ms of Python whatever
# its size, so under load the background thread coalesces into fewer, larger commits (AWS's buffering
# hints are hints too). flush_all() ignores it.
MIN_DELIVERY_GAP_S = 0.5
# Backoff between attempts of a failed delivery (AWS does not publish its own), capped by the retry window.
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 30.0


@dataclass
class Counters:
    delivered: int = 0
    failed: int = 0


def due_in(stream: DeliveryStream, now: float) -> float | None:
    """Seconds until the buffer or a failed batch is due (<= 0: now), None when there is nothing."""
    dues = [r.next_at - now for r in stream.retrying]
    if stream.buffer:
        due = (
            stream.first_arrival
            if stream.buffer_bytes >= stream.size_limit
            else stream.first_arrival + stream.interval
        )
        dues.append(max(due, stream.last_delivery + MIN_DELIVERY_GAP_S) - now)
    return min(dues) if dues else None


class DeliveryScheduler:
    """The delivery thread of ``backend``'s streams, and the delivered/failed counts of ``flush_all``."""

    def __init__(self, backend: FirehoseBackend) -> None:
        self.backend = backend
        self.counters = Counters()
        self.cond = threading.Condition(backend.lock)  # notified when a buffer or a hint changes
        self._thread: threading.Thread | None = None
        backend.listen(self.wake)

    def wake(self) -> None:
        """Records arrived or a destination changed (called under the backend's lock)."""
        self.ensure_thread()
        self.cond.notify_all()

    def ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="firehose-delivery", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        backend = self.backend
        while True:
            due: list[DeliveryStream] = []
            with backend.lock:
                now = time.monotonic()
                wait: float | None = None
                for key in list(backend.streams):
                    stream = backend.refresh(key, now)
                    if stream is None or stream.status != "ACTIVE":
                        continue
                    left = due_in(stream, now)
                    if left is None:
                        continue
                    if left <= 0:
                        due.append(stream)
                    else:
                        wait = left if wait is None else min(wait, left)
                if not due:
                    self.cond.wait(timeout=wait if wait is not None else 5.0)
                    continue
            for stream in due:
                try:
                    self.deliver(stream)
                except Exception:  # keep the thread alive whatever one delivery does
                    log.exception("delivery for Firehose %s failed", stream.name)

    def deliver(self, stream: DeliveryStream, retry_all: bool = False) -> tuple[int, int]:
        """Deliver what is buffered for ``stream`` now (one Iceberg commit), and the failed batches whose
        next attempt is due (all of them with ``retry_all``). Returns the (ok, failed) records settled."""
        lock = self.backend.lock
        with stream.deliver_lock:
            now = time.monotonic()
            with lock:
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
                got, lost, again = delivery.deliver_batch(
                    stream, config, version, batch.items, attempts, final
                )
                ok, failed = ok + got, failed + lost
                if again:
                    wait = min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_CAP_S)
                    next_at = min(time.monotonic() + wait, batch.give_up_at)
                    with lock:
                        stream.retrying.append(Retrying(again, attempts, batch.give_up_at, next_at))
                        self.cond.notify_all()
                    self.ensure_thread()
            with lock:
                self.counters.delivered += ok
                self.counters.failed += failed
            return ok, failed

    def retrying(self) -> int:
        with self.backend.lock:
            return sum(len(r.items) for s in self.backend.streams.values() for r in s.retrying)

    def flush_all(self) -> dict[str, int]:
        """Deliver every buffer now (and retry every failed batch once, now); wait for deliveries in flight.
        Counts since the previous flush, plus ``retrying``: records still inside their retry window."""
        with self.backend.lock:
            streams = list(self.backend.streams.values())
        for stream in streams:
            if stream.status in ("ACTIVE",):
                self.deliver(stream, retry_all=True)
            else:
                with stream.deliver_lock:  # wait for a delivery in flight
                    pass
        with self.backend.lock:
            result = {"delivered": self.counters.delivered, "failed": self.counters.failed}
            self.counters = Counters()
        waiting = self.retrying()
        if waiting:
            result["retrying"] = waiting
        return result

    def reset_counters(self) -> None:
        with self.backend.lock:
            self.counters = Counters()
