"""Service metrics the emulated services publish, written straight into moto's CloudWatch backend.

AWS services publish their own metrics (``AWS/Firehose``, ``AWS/Lambda``); nobody calls PutMetricData for
them. Writing into the backend in-process makes them visible to ``GetMetricStatistics`` / ``GetMetricData``
like real ones, and to the alarms (emulator/cloudwatch/alarms.py). A datapoint is stamped with the local
AWS's clock (emulator/core/clock.py), so a test that moves the clock sees its datapoints where the alarms
look for them. So is a datapoint a client puts without a Timestamp (PutMetricData: CloudWatch stamps it on
receipt): moto stamped those with the wall clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch import models as cloudwatch_models

from emulator.core import clock

_lock = threading.Lock()


def clock_utcnow() -> datetime:
    """moto's naive-UTC ``utcnow``, read from the local AWS's clock."""
    return datetime.fromtimestamp(clock.now(), UTC).replace(tzinfo=None)


cloudwatch_models.utcnow = clock_utcnow  # a datapoint without Timestamp is stamped on receipt


def put(
    account_id: str,
    region: str,
    namespace: str,
    dimensions: dict[str, str],
    values: dict[str, tuple[float, str]],
    timestamp: datetime | None = None,
) -> None:
    """Record ``{metric: (value, unit)}`` under ``namespace`` with ``dimensions``; never raises."""
    try:
        from moto.cloudwatch.models import cloudwatch_backends
    except ImportError:  # pragma: no cover
        return
    ts = timestamp or datetime.fromtimestamp(clock.now(), UTC).replace(
        tzinfo=None
    )  # naive UTC, as moto keeps
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    data: list[dict[str, Any]] = [
        {"MetricName": name, "Value": float(value), "Unit": unit, "Dimensions": dims, "Timestamp": ts}
        for name, (value, unit) in values.items()
    ]
    if not data:
        return
    try:
        with _lock:
            cloudwatch_backends[account_id][region].put_metric_data(namespace, data)
    except Exception:  # metrics must never break the data path
        return
