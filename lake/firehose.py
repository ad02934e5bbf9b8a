"""The Firehose batch transport: PutRecordBatch with exact partial resends, for `doit send` (tasks/send.py),
verify/ and the OTLP receiver (ingest/deliver.py).

Batches hold at most 500 records and 4 MiB. After a partial failure exactly the failed records (by
position in RequestResponses) are sent again, with backoff toward a deadline; records still failing
then are reported as lost. The receiver gives each request one `Deadline` (an injectable clock): no call
starts after it, and a whole call that fails in a way a retry may fix (botocore's standard retry
conditions) is retried here, within that deadline, instead of by botocore.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import (  # type: ignore[attr-defined]  # stubs lack ThrottlingStatusCodeChecker
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    ThrottlingStatusCodeChecker,
    TransientRetryableChecker,
)

from lake.deadline import Deadline

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1_024_000
# Default per-stream quota: 2,000 requests/s and 5,000 records/s; 500-record batches reach the records
# quota at 10 batches/s, which a handful of threads waiting on the network already saturate.
THREADS_PER_STREAM = 4
MAX_THREADS = 16
RESEND_DEADLINE_S = 60.0
# The deadline is what bounds resending; 8 attempts gave up on ~0.15% of 500-record batches when 20% of
# records fail per call (tests/reliability/test_reliability_data.py), long before the deadline.
MAX_ATTEMPTS = 20
NOT_SENT = "NotSentBeforeTheDeadline"  # the error "code" of records no call was started for in time
RETRYABLE = OrRetryChecker(
    [TransientRetryableChecker(), ThrottledRetryableChecker(), ThrottlingStatusCodeChecker()]
)


class RecordTooLarge(ValueError):
    """A record over Firehose's 1,000 KiB record limit: no call can send it."""


@dataclass
class PutResult:
    """What sending one batch did: records handed on, records still failing at the end, calls made,
    records sent again, and the error codes seen (per record)."""

    sent: int = 0
    failed: int = 0
    calls: int = 0
    resent: int = 0
    errors: dict[str, int] = field(default_factory=dict)


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
    return code if RETRYABLE.is_retryable(context) else None


def batch_full(records: int, size: int, incoming: int) -> bool:
    """A batch of `records` records and `size` bytes takes no record of `incoming` bytes more."""
    return records == MAX_BATCH_RECORDS or size + incoming > MAX_BATCH_BYTES


def batches(payloads: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Split into PutRecordBatch-sized lists: <= 500 records and <= 4 MiB each."""
    batch: list[bytes] = []
    size = 0
    for data in payloads:
        if len(data) > MAX_RECORD_BYTES:
            raise RecordTooLarge(
                f"error: a record of {len(data)} bytes exceeds Firehose's 1,000 KiB record limit"
            )
        if batch and batch_full(len(batch), size, len(data)):
            yield batch
            batch, size = [], 0
        batch.append(data)
        size += len(data)
    if batch:
        yield batch


def put_batch(
    firehose: Any,  # a Firehose client, or anything with its put_record_batch (ingest/deliver.py)
    stream: str,
    batch: list[bytes],
    deadline_s: float = RESEND_DEADLINE_S,
    *,
    until: Deadline | None = None,
    call_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PutResult:
    """Send one batch; resend exactly the failed records with jittered backoff.

    Without `until` (doit send): the first call is always made, resends go on for `deadline_s`, and a
    whole call's failure raises (the client's botocore retries have had their turn). With `until` (the
    receiver, whose client does not retry): no call starts with less than `call_s` left before it, and a
    whole call that failed in a way a retry may fix counts as all its records failed, resent like them.
    """
    pending = batch
    out = PutResult()
    errors = out.errors
    delay = 0.1
    end = until or Deadline.after(deadline_s)
    for attempt in range(MAX_ATTEMPTS):
        if until is not None and until.left() < max(call_s, 1e-9):
            errors[NOT_SENT] = errors.get(NOT_SENT, 0) + len(pending)
            break
        if attempt:
            out.resent += len(pending)
        out.calls += 1
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
                pending = []
                break
            failed = []
            for data, answer in zip(pending, resp["RequestResponses"], strict=True):
                code = answer.get("ErrorCode")
                if code:
                    failed.append(data)
                    errors[code] = errors.get(code, 0) + 1
            pending = failed
        if end.left() < delay:
            break
        sleep(min(delay * (0.5 + random.random()), max(0.0, end.left())))
        delay = min(delay * 2, 5.0)
    out.sent, out.failed = len(batch) - len(pending), len(pending)
    return out


def threads_for(streams: int, batches_per_stream: int) -> int:
    """Threads for sending `streams` streams' batches beside each other, within the streams' quotas."""
    return max(1, min(MAX_THREADS, streams * THREADS_PER_STREAM, streams * batches_per_stream))
