"""The one record sender: PutRecordBatch with exact partial resends.

Used by `doit send`, verify/ and the OTLP receiver (ingest/).
Batches hold at most 500 records and 4 MiB. After a partial failure exactly the failed records (by
position in RequestResponses) are sent again, with backoff toward a deadline; records still failing
then are reported as lost. Batches go out on a small thread pool sized to the stream's default quotas.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.config import Config
from tasks.errors import NotDeployed, UserError, error_code
from tasks.records import encode, make_records, new_run_id

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1_024_000
# Default per-stream quota: 2,000 requests/s and 5,000 records/s; 500-record batches reach the records
# quota at 10 batches/s, which a handful of threads waiting on the network already saturate.
THREADS_PER_STREAM = 4
MAX_THREADS = 16
RESEND_DEADLINE_S = 60.0
# The deadline is what bounds resending; 8 attempts gave up on ~0.15% of 500-record batches when 20% of
# records fail per call (tests/test_reliability_data.py), long before the deadline.
MAX_ATTEMPTS = 20


@dataclass
class SendResult:
    signal: str
    stream: str
    run_id: str
    sent: int = 0
    failed: int = 0
    calls: int = 0
    resent: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, sent: int, failed: int, calls: int, resent: int, errors: dict[str, int]) -> None:
        with self._lock:
            self.sent += sent
            self.failed += failed
            self.calls += calls
            self.resent += resent
            for code, n in errors.items():
                self.errors[code] = self.errors.get(code, 0) + n


def batches(payloads: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Split into PutRecordBatch-sized lists: <= 500 records and <= 4 MiB each."""
    batch: list[bytes] = []
    size = 0
    for data in payloads:
        if len(data) > MAX_RECORD_BYTES:
            raise UserError(f"error: a record of {len(data)} bytes exceeds Firehose's 1,000 KiB record limit")
        if batch and (len(batch) == MAX_BATCH_RECORDS or size + len(data) > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(data)
        size += len(data)
    if batch:
        yield batch


def put_batch(
    firehose: Any, stream: str, batch: list[bytes], deadline_s: float = RESEND_DEADLINE_S
) -> tuple[int, int, int, int, dict[str, int]]:
    """Send one batch; resend exactly the failed records with jittered backoff.

    Returns (sent, finally failed, calls, records resent, error codes seen).
    """
    pending = batch
    calls = resent = 0
    errors: dict[str, int] = {}
    delay = 0.1
    end = time.monotonic() + deadline_s
    for attempt in range(MAX_ATTEMPTS):
        resp = firehose.put_record_batch(DeliveryStreamName=stream, Records=[{"Data": d} for d in pending])
        calls += 1
        if attempt:
            resent += len(pending)
        if not resp.get("FailedPutCount"):
            return len(batch), 0, calls, resent, errors
        failed = []
        for data, answer in zip(pending, resp["RequestResponses"], strict=True):
            if answer.get("ErrorCode"):
                failed.append(data)
                errors[answer["ErrorCode"]] = errors.get(answer["ErrorCode"], 0) + 1
        pending = failed
        if time.monotonic() + delay > end:
            break
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 5.0)
    return len(batch) - len(pending), len(pending), calls, resent, errors


def threads_for(streams: int, batches_per_stream: int) -> int:
    return max(1, min(MAX_THREADS, streams * THREADS_PER_STREAM, streams * batches_per_stream))


def send(
    clients: Clients, config: Config, signals: list[str], count: int, run_id: str | None = None
) -> tuple[str, list[SendResult]]:
    """Send `count` test records of each signal to its stream; returns (run_id, one result per signal)."""
    unknown = [s for s in signals if s not in config.signals]
    if unknown:
        raise UserError(
            f"error: signal={unknown[0]!r} is not deployed in env {config.env}: "
            f"must be one of {', '.join(config.signals)}"
        )
    if count < 1:
        raise UserError(f"error: count={count} is invalid: must be an integer >= 1")
    run_id = run_id or new_run_id()
    firehose = clients.firehose
    results = [SendResult(s, config.stream_name(s), run_id) for s in signals]
    jobs = []
    for res in results:
        payloads = (encode(r) for r in make_records(res.signal, run_id, count))
        jobs += [(res, b) for b in batches(payloads)]
    per_stream = max(1, len(jobs) // max(1, len(results)))
    with ThreadPoolExecutor(max_workers=threads_for(len(results), per_stream)) as pool:
        futures = [(res, pool.submit(put_batch, firehose, res.stream, b)) for res, b in jobs]
        for res, fut in futures:
            try:
                res.add(*fut.result())
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                raise NotDeployed(
                    f"error: stream {res.stream} does not exist: run `doit deploy env={config.env}` first"
                ) from None
    return run_id, results
