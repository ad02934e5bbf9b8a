"""`doit send`'s test records: built from the contract (tasks/records.py) with a fresh run id, sent through
the Firehose transport (lake/firehose.py) on a small thread pool, one result per signal."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from lake import firehose as transport
from lake.firehose import PutResult, RecordTooLarge
from tasks.aws import Clients
from tasks.config import Config
from tasks.errors import NotDeployed, UserError, error_code
from tasks.records import encode, make_records, new_run_id


@dataclass
class SendResult:
    """One signal's send: its stream, the run id, and the sums of its batches' PutResults."""

    signal: str
    stream: str
    run_id: str
    sent: int = 0
    failed: int = 0
    calls: int = 0
    resent: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, put: PutResult) -> None:
        with self.lock:
            self.sent += put.sent
            self.failed += put.failed
            self.calls += put.calls
            self.resent += put.resent
            for code, n in put.errors.items():
                self.errors[code] = self.errors.get(code, 0) + n


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
    try:
        for res in results:
            payloads = (encode(r) for r in make_records(res.signal, run_id, count))
            jobs += [(res, b) for b in transport.batches(payloads)]
    except RecordTooLarge as exc:
        raise UserError(str(exc)) from None
    per_stream = max(1, len(jobs) // max(1, len(results)))
    with ThreadPoolExecutor(max_workers=transport.threads_for(len(results), per_stream)) as pool:
        futures = [(res, pool.submit(transport.put_batch, firehose, res.stream, b)) for res, b in jobs]
        for res, fut in futures:
            try:
                res.add(fut.result())
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                raise NotDeployed(
                    f"error: stream {res.stream} does not exist: run `doit deploy env={config.env}` first"
                ) from None
    return run_id, results
