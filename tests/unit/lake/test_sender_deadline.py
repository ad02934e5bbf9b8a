"""lake/firehose.put_batch under a receiver's Deadline, on an injected clock (no real waiting): no call starts
too close to the deadline, whole calls that a retry may fix are retried within it, and each call gets the
longest timeout that still ends before it (ingest/deliver.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from ingest.deliver import CALL_TIMEOUTS_S, FirehoseDelivery
from lake.deadline import Deadline
from lake.firehose import NOT_SENT, PutResult, put_batch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def _error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        "PutRecordBatch",
    )


class Firehose:
    """Fails every call with `error` (each call taking `call_s` on the clock), or accepts every record."""

    def __init__(self, clock: Clock, error: Exception | None = None, call_s: float = 0.05) -> None:
        self.clock, self.error, self.call_s = clock, error, call_s
        self.started: list[float] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Any:
        self.started.append(self.clock.now)
        self.clock.now += self.call_s
        if self.error is not None:
            raise self.error
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"} for _ in Records]}


BATCH = [b"{}\n"] * 3


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            _error("ServiceUnavailableException", 503),
            "ServiceUnavailableException",
        ),  # Firehose's "Slow down."
        (_error("ThrottlingException", 400), "ThrottlingException"),
        (_error("InternalFailure", 500), "InternalFailure"),
        (ReadTimeoutError(endpoint_url="https://firehose"), "ReadTimeoutError"),
    ],
)
def test_a_failing_call_is_retried_until_the_deadline_and_no_later(error: Exception, code: str) -> None:
    clock = Clock()
    until = Deadline.after(3.0, clock)
    firehose = Firehose(clock, error)
    put = put_batch(firehose, "s", BATCH, until=until, call_s=0.5, sleep=clock.sleep)
    assert (put.sent, put.failed) == (0, 3)
    assert put.calls == len(firehose.started) > 2
    assert put.errors[code] == 3 * put.calls
    assert all(t <= until.at - 0.5 for t in firehose.started)  # none started within call_s of the deadline
    assert clock.now <= until.at


def test_a_call_no_retry_can_fix_is_raised() -> None:
    clock = Clock()
    firehose = Firehose(clock, _error("ResourceNotFoundException", 400))
    with pytest.raises(ClientError):
        put_batch(firehose, "s", BATCH, until=Deadline.after(3.0, clock), sleep=clock.sleep)
    assert len(firehose.started) == 1


def test_without_a_deadline_a_failing_call_is_raised_as_doit_send_expects() -> None:
    clock = Clock()
    firehose = Firehose(clock, _error("ServiceUnavailableException", 503))
    with pytest.raises(ClientError):
        put_batch(firehose, "s", BATCH, sleep=clock.sleep)


def test_no_call_starts_after_the_deadline() -> None:
    clock = Clock()
    firehose = Firehose(clock)
    until = Deadline.after(0.4, clock)
    assert put_batch(firehose, "s", BATCH, until=until, call_s=0.5, sleep=clock.sleep) == PutResult(
        0, 3, 0, 0, {NOT_SENT: 3}
    )
    assert firehose.started == []


@pytest.mark.parametrize(("left", "timeout"), [(30.0, 4.0), (7.9, 2.0), (3.0, 1.0), (1.2, 0.5), (0.6, 0.25)])
def test_each_call_gets_the_longest_timeout_that_ends_before_the_deadline(
    left: float, timeout: float
) -> None:
    clock = Clock()
    chosen: list[float] = []

    class Session:
        def client(self, service: str, endpoint_url: str | None, config: Any) -> Firehose:
            assert (config.connect_timeout, config.read_timeout) == (config.read_timeout, config.read_timeout)
            assert config.retries["max_attempts"] == 1  # the sender retries, within the deadline
            chosen.append(config.read_timeout)
            return Firehose(clock)

    delivery = FirehoseDelivery(Session(), None, lambda s: f"stream-{s}")
    try:
        out = delivery({"logs": BATCH}, Deadline.after(left, clock))
    finally:
        delivery.close()
    assert out.ok and out.sent["logs"] == 3
    assert chosen == [timeout] and timeout in CALL_TIMEOUTS_S
