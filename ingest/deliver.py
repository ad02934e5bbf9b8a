"""Rows into the signals' Firehose streams, through the same sender as `doit send` (lake/sender.py).

Batches of at most 500 records and 4 MiB; only the records a call reports failed are sent again, with
backoff, until the receiver's deadline. The outcome says whether everything was handed on; the receiver
answers 200 only then, and 503 with Retry-After otherwise, so that the exporter sends the request again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lake.sender import batches, put_batch

THREADS = 4  # metric tables of one request, sent beside each other


@dataclass
class Delivery:
    """What one request's delivery did: records handed on per signal, records lost, and why."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failed == 0


Deliver = Callable[[dict[str, list[bytes]]], Delivery]


class FirehoseDelivery:
    """Sends a request's records to the env's streams; several signals' streams on a small shared pool."""

    def __init__(self, firehose: Any, stream_of: Callable[[str], str], deadline_s: float) -> None:
        self.firehose = firehose
        self.stream_of = stream_of
        self.deadline_s = deadline_s
        self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ingest-send")

    def _one(self, signal: str, batch: list[bytes], end: float) -> tuple[str, int, int, dict[str, int]]:
        stream = self.stream_of(signal)
        try:
            sent, failed, _, _, errors = put_batch(
                self.firehose, stream, batch, deadline_s=max(0.0, end - time.monotonic())
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            return signal, 0, len(batch), {code: len(batch)}
        except BotoCoreError as exc:
            return signal, 0, len(batch), {type(exc).__name__: len(batch)}
        return signal, sent, failed, errors

    def _signal(
        self, signal: str, recs: list[bytes], end: float
    ) -> list[tuple[str, int, int, dict[str, int]]]:
        """One signal's batches one after the other: a 4 MiB batch costs about 3x its size in memory while
        botocore serialises it (bench/ingest.py), so one request never has several in flight per stream."""
        return [self._one(signal, batch, end) for batch in batches(recs)]

    def __call__(self, records: dict[str, list[bytes]]) -> Delivery:
        end = time.monotonic() + self.deadline_s
        out = Delivery()
        if len(records) == 1:
            [(signal, recs)] = records.items()
            results = self._signal(signal, recs, end)
        else:  # metrics: the signals' streams beside each other
            futures = [self._pool.submit(self._signal, s, recs, end) for s, recs in records.items()]
            results = [r for f in futures for r in f.result()]
        for signal, sent, failed, errors in results:
            out.sent[signal] += sent
            out.failed += failed
            out.errors.update(errors)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False)
