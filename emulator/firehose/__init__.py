"""Firehose with Apache Iceberg destinations (S3 Tables), delivering into real Iceberg tables.

data.py: a stream, its buffers and records; models.py: the backend (one method per operation);
scheduler.py: the delivery thread and its retries; delivery.py: one delivery attempt, with its checks
(access.py, needs.py), the JSON-to-Arrow conversion (records.py) and the error bucket and log writer
(error_output.py); errors.py: the codes a failed record carries; validation.py: requests checked as AWS's
front end does; responses.py: the JSON 1.1 API; exceptions.py: API errors.

Importing this package registers the handlers (responses.py), the ``/_emulator/flush`` hook and the reset
hook with emulator.core.registry.
"""

from __future__ import annotations

from emulator.core import registry
from emulator.firehose import responses as responses
from emulator.firehose.models import firehose_backend
from emulator.firehose.scheduler import DeliveryScheduler

scheduler = DeliveryScheduler(firehose_backend)


def reset() -> None:
    firehose_backend.reset()
    # Only now: a delivery in flight during the reset counts toward the old counters, not the new.
    scheduler.reset_counters()


registry.register_flush(scheduler.flush_all)
registry.register_reset(reset)
