"""Rows into the signals' Firehose streams, through the same transport as `doit send` (lake/firehose.py).

Batches of at most 500 records and 4 MiB; only the records a call reports failed are sent again, with
backoff, within the request's one deadline. The outcome says whether everything was handed on; the
receiver answers 200 only then, and 503 with Retry-After otherwise, so that the exporter sends the request
again.

The deadline holds even when Firehose stalls. The receiver's Firehose clients make one attempt per call
(the sender retries, within the deadline, what botocore would have retried), and each call goes through
the client whose connect and read timeouts are the longest that still let it end by the deadline
(CALL_TIMEOUTS_S). So the answer comes by the deadline, and no call is still running behind it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from lake.deadline import Deadline
from lake.firehose import batch_full, batches, put_batch

THREADS = 4  # metric tables of one request, sent beside each other
# The connect and the read timeout a call may get: the longest whose call (both, in the worst case) ends
# before the deadline. Past the shortest, no call starts.
CALL_TIMEOUTS_S = (0.25, 0.5, 1.0, 2.0, 4.0)


def client_config(timeout_s: float) -> BotoConfig:
    """A receiver's Firehose client: one attempt per call (lake/firehose.put_batch retries within the
    request's deadline), with timeouts that bound a stalled call."""
    return BotoConfig(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        max_pool_connections=32,
    )


class _Bounded:
    """PutRecordBatch through the client with the longest timeout that lets the call end by `deadline`."""

    def __init__(self, client: Callable[[float], Any], deadline: Deadline) -> None:
        self._client = client
        self._deadline = deadline

    def put_record_batch(self, **kwargs: Any) -> Any:
        left = self._deadline.left()
        timeout = max([t for t in CALL_TIMEOUTS_S if 2 * t <= left], default=CALL_TIMEOUTS_S[0])
        return self._client(timeout).put_record_batch(**kwargs)


@dataclass
class Delivery:
    """What one request's delivery did: records handed on per signal, records lost, and why."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def add(self, other: Delivery) -> None:
        self.sent.update(other.sent)
        self.failed += other.failed
        self.errors.update(other.errors)


Deliver = Callable[[dict[str, list[bytes]], Deadline], Delivery]


class Batcher:
    """A request's records gathered per signal into whole PutRecordBatch batches, cut where
    lake/firehose.batches would cut them, so the receiver hands each batch on as soon as it is full and
    holds one batch per signal rather than the rows of the whole request (docs/ingest.md, "Memory")."""

    def __init__(self) -> None:
        self._pending: dict[str, list[bytes]] = {}
        self._bytes: Counter[str] = Counter()

    def add(self, signal: str, records: list[bytes]) -> Iterator[list[bytes]]:
        """The batches of `signal` that `records` fill up, in order."""
        pending = self._pending.setdefault(signal, [])
        for data in records:
            if pending and batch_full(len(pending), self._bytes[signal], len(data)):
                yield pending
                pending = self._pending[signal] = []
                self._bytes[signal] = 0
            pending.append(data)
            self._bytes[signal] += len(data)

    def rest(self) -> dict[str, list[bytes]]:
        """What is left, per signal: each signal's last batch."""
        rest = {signal: recs for signal, recs in self._pending.items() if recs}
        self._pending, self._bytes = {}, Counter()
        return rest


class FirehoseDelivery:
    """Sends a request's records to the env's streams; several signals' streams on a small shared pool."""

    def __init__(self, session: Any, endpoint_url: str | None, stream_of: Callable[[str], str]) -> None:
        self.session = session
        self.endpoint_url = endpoint_url
        self.stream_of = stream_of
        self._clients: dict[float, Any] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ingest-send")

    def client(self, timeout_s: float) -> Any:
        """The Firehose client with that timeout, made on first use and kept (botocore clients are
        thread-safe)."""
        with self._lock:
            if timeout_s not in self._clients:
                self._clients[timeout_s] = self.session.client(
                    "firehose", endpoint_url=self.endpoint_url, config=client_config(timeout_s)
                )
            return self._clients[timeout_s]

    def _one(self, signal: str, batch: list[bytes], until: Deadline) -> tuple[str, int, int, dict[str, int]]:
        stream = self.stream_of(signal)
        firehose = _Bounded(self.client, until)
        try:
            put = put_batch(firehose, stream, batch, until=until, call_s=2 * CALL_TIMEOUTS_S[0])
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            return signal, 0, len(batch), {code: len(batch)}
        except BotoCoreError as exc:
            return signal, 0, len(batch), {type(exc).__name__: len(batch)}
        return signal, put.sent, put.failed, put.errors

    def _signal(
        self, signal: str, recs: list[bytes], until: Deadline
    ) -> list[tuple[str, int, int, dict[str, int]]]:
        """One signal's batches one after the other: a 4 MiB batch costs about 3x its size in memory while
        botocore serialises it (bench/ingest.py), so one request never has several in flight per stream."""
        return [self._one(signal, batch, until) for batch in batches(recs)]

    def __call__(self, records: dict[str, list[bytes]], until: Deadline) -> Delivery:
        out = Delivery()
        if len(records) == 1:
            [(signal, recs)] = records.items()
            results = self._signal(signal, recs, until)
        else:  # metrics: the signals' streams beside each other
            futures = [self._pool.submit(self._signal, s, recs, until) for s, recs in records.items()]
            results = [r for f in futures for r in f.result()]
        for signal, sent, failed, errors in results:
            out.sent[signal] += sent
            out.failed += failed
            out.errors.update(errors)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False)
