"""Firehose with Apache Iceberg destinations (S3 Tables), delivering into real Iceberg tables.

Importing this package registers the handlers (responses.py), the ``/_emulator/flush`` hook and the reset
hook with emulator.overrides.
"""

from __future__ import annotations

from emulator import iceberg_store, overrides
from emulator.firehose import responses as responses
from emulator.firehose.models import STATE


def flush_all() -> dict[str, int]:
    """Deliver every buffered record now; counts delivered/failed since the previous flush."""
    return STATE.flush_all()


def reset() -> None:
    STATE.reset()
    iceberg_store.reset()


overrides.register_flush(flush_all)
overrides.register_reset(reset)
