"""The one record sender: PutRecordBatch with exact partial resends.

Used by `doit send`, verify/ and the OTLP receiver (ingest/).
Batches hold at most 500 records and 4 MiB. After a partial failure exactly the failed records (by
position in RequestResponses) are sent again, with backoff toward a deadline; records still failing
then are reported as lost. Batches go out on a small thread pool sized to the stream's default quotas.
The receiver gives each request one `Deadline` (an injectable clock): no call starts after it, and a
whole call that fails in a way a retry may fix (botocore's standard retry conditions) is retried here,
within that deadline, instead of by botocore.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    ThrottlingStatusCodeChecker,
    TransientRetryableChecker,
)

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
NOT_SENT = "NotSentBeforeTheDeadline"  # the error "code" of records no call was started for in time
_RETRYABLE = OrRetryChecker(
    [TransientRetryableChecker(), ThrottledRetryableChecker(), ThrottlingStatusCodeChecker()]
)


@dataclass(frozen=True)
class Deadline:
    """A time on `clock` (monotonic seconds) after which no more work starts; tests inject the clock."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def left(self) -> float:
        return self.at - self.clock()

    def passed(self) -> bool:
        return self.left() <= 0


def retryable_code(exc: Exception) -> str | None:
    """The error code of a failed call that a retry may fix (botocore's standard retry conditions:
    throttling, 5xx, connection errors and timeouts), or None."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        context = RetryContext(
            1, parsed_response=exc.response, http_response=SimpleNamespace(status_code=status)
        )
        code = str(exc.response.get("Error", {}).get("Code") or status)
    elif isinstance(exc, BotoCoreError):
        context, code = RetryContext(1, caught_exception=exc), type(exc).__name__
    else:
        return None
    return code if _RETRYABLE.is_retryable(context) else None


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
    firehose: Any,
    stream: str,
    batch: list[bytes],
    deadline_s: float = RESEND_DEADLINE_S,
    *,
    until: Deadline | None = None,
    call_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, int, int, int, dict[str, int]]:
    """Send one batch; resend exactly the failed records with jittered backoff.

    Without `until` (doit send): the first call is always made, resends go on for `deadline_s`, and a
    whole call's failure raises (the client's botocore retries have had their turn). With `until` (the
    receiver, whose client does not retry): no call starts with less than `call_s` left before it, and a
    whole call that failed in a way a retry may fix counts as all its records failed, resent like them.
    Returns (sent, finally failed, calls, records resent, error codes seen).
    """
    pending = batch
    calls = resent = 0
    errors: dict[str, int] = {}
    delay = 0.1
    end = until or Deadline.after(deadline_s)
    for attempt in range(MAX_ATTEMPTS):
        if until is not None and until.left() < max(call_s, 1e-9):
            errors[NOT_SENT] = errors.get(NOT_SENT, 0) + len(pending)
            break
        if attempt:
            resent += len(pending)
        calls += 1
        try:
            resp = firehose.put_record_batch(
                DeliveryStreamName=stream, Records=[{"Data": d} for d in pending]
            )
        except (ClientError, BotoCoreError) as exc:
            code = retryable_code(exc) if until is not None else None
            if code is None:
                raise
            errors[code] = errors.get(code, 0) + len(pending)
        else:
            if not resp.get("FailedPutCount"):
                return len(batch), 0, calls, resent, errors
            failed = []
            for data, answer in zip(pending, resp["RequestResponses"], strict=True):
                if answer.get("ErrorCode"):
                    failed.append(data)
                    errors[answer["ErrorCode"]] = errors.get(answer["ErrorCode"], 0) + 1
            pending = failed
        if end.left() < delay:
            break
        sleep(min(delay * (0.5 + random.random()), max(0.0, end.left())))
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
