"""Firehose with Apache Iceberg destinations (S3 Tables), delivering into real Iceberg tables.

Importing this package registers the handlers (responses.py), the ``/_emulator/flush`` hook and the reset
hook with emulator.core.registry.
"""

from __future__ import annotations

from emulator.core import registry
from emulator.firehose import responses as responses
from emulator.firehose.models import STATE


def flush_all() -> dict[str, int]:
    """Deliver every buffered record now; counts delivered/failed since the previous flush."""
    return STATE.scheduler.flush_all()


def reset() -> None:
    STATE.reset()


registry.register_flush(flush_all)
registry.register_reset(reset)
