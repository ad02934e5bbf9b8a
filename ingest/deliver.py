"""Rows into the signals' Firehose streams, through the same sender as `doit send` (lake/sender.py).

Batches of at most 500 records and 4 MiB; only the records a call reports failed are sent again, with
backoff, within the request's one deadline. The outcome says whether everything was handed on; the
receiver answers 200 only then, and 429/503 otherwise, so that the exporter sends the request again.

The deadline holds even when Firehose stalls: the receiver's client makes one attempt per call (the
sender retries, within the deadline, what botocore would have retried), its connect and read timeouts
bound one call (`client_config`), and no call starts later than that bound before the deadline. So the
answer comes by the deadline, and a call still running after it never hands on rows behind the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from lake.sender import Deadline, batches, put_batch

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "LimitExceededException", "TooManyRequestsException", "Throttling"}
)
THREADS = 4  # metric tables of one request, sent beside each other
CALL_TIMEOUT_MAX_S = 5.0


def call_timeout(deadline_s: float) -> float:
    """The connect and the read timeout of one Firehose call: a sixth of the deadline, at most 5 s, so
    calls can start for the first two thirds of a request's time."""
    return min(CALL_TIMEOUT_MAX_S, deadline_s / 6)


def client_config(deadline_s: float) -> BotoConfig:
    """The receiver's Firehose client: one attempt per call (lake/sender.put_batch retries within the
    request's deadline) and timeouts that bound a stalled call."""
    timeout = call_timeout(deadline_s)
    return BotoConfig(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=timeout,
        read_timeout=timeout,
        max_pool_connections=32,
    )


@dataclass
class Delivery:
    """What one request's delivery did: records handed on per signal, records lost, and why."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def throttled(self) -> bool:
        """Every error was a throttle: 429 asks the exporter to slow down; anything else is 503."""
        return bool(self.errors) and all(code in THROTTLING_CODES for code in self.errors)


Deliver = Callable[[dict[str, list[bytes]], Deadline], Delivery]


class FirehoseDelivery:
    """Sends a request's records to the env's streams; several signals' streams on a small shared pool."""

    def __init__(self, firehose: Any, stream_of: Callable[[str], str]) -> None:
        self.firehose = firehose
        self.stream_of = stream_of
        config = firehose.meta.config
        # The longest a call that has started can take when Firehose stalls.
        self.call_bound_s = float(config.connect_timeout) + float(config.read_timeout)
        self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ingest-send")

    def _one(self, signal: str, batch: list[bytes], until: Deadline) -> tuple[str, int, int, dict[str, int]]:
        stream = self.stream_of(signal)
        try:
            sent, failed, _, _, errors = put_batch(self.firehose, stream, batch, until=until)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            return signal, 0, len(batch), {code: len(batch)}
        except BotoCoreError as exc:
            return signal, 0, len(batch), {type(exc).__name__: len(batch)}
        return signal, sent, failed, errors

    def _signal(
        self, signal: str, recs: list[bytes], until: Deadline
    ) -> list[tuple[str, int, int, dict[str, int]]]:
        """One signal's batches one after the other: a 4 MiB batch costs about 3x its size in memory while
        botocore serialises it (bench/ingest.py), so one request never has several in flight per stream."""
        return [self._one(signal, batch, until) for batch in batches(recs)]

    def __call__(self, records: dict[str, list[bytes]], deadline: Deadline) -> Delivery:
        until = deadline.earlier(self.call_bound_s)  # a call started by then ends by the deadline
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
