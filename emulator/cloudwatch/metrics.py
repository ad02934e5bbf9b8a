"""Service metrics the emulated services publish, written straight into moto's CloudWatch backend.

AWS services publish their own metrics (``AWS/Firehose`` ...); nobody calls PutMetricData for them. Writing
into the backend in-process makes them visible to ``GetMetricStatistics`` / ``GetMetricData`` like real ones.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow

_lock = threading.Lock()


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
    ts = timestamp or utcnow()  # naive UTC, as moto compares them
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
