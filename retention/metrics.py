"""What a run publishes to CloudWatch: namespace `otlp2pipeline/Retention`.

Per run, with the dimension `Env`: `RunFailed` (1 when the run failed, 0 when it succeeded: the retention
alarms watch it), and `DroppedDays`, `DroppedRows`, `DroppedBytes` over every table (each table's figures
are in the run's log: a metric per table would cost a custom metric each). No Timestamp is sent: CloudWatch
stamps a datapoint when it receives it. A dry run publishes nothing.
"""

from __future__ import annotations

from typing import Any, Protocol


class Report(Protocol):
    """What a run's figures are read from (retention.run.Report), named here so run.py imports this module
    and not the other way round."""

    @property
    def env(self) -> str: ...
    @property
    def failed(self) -> bool: ...
    @property
    def days(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def bytes(self) -> int: ...


NAMESPACE = "otlp2pipeline/Retention"
ENV_DIMENSION = "Env"
RUN_FAILED = "RunFailed"
DROPPED = (("DroppedDays", "Count"), ("DroppedRows", "Count"), ("DroppedBytes", "Bytes"))


def _figures(days: int, rows: int, size: int) -> dict[str, float]:
    return {"DroppedDays": float(days), "DroppedRows": float(rows), "DroppedBytes": float(size)}


def metric_data(report: Report) -> list[dict[str, Any]]:
    """The run's datapoints, as PutMetricData's MetricData takes them."""
    env = [{"Name": ENV_DIMENSION, "Value": report.env}]
    data: list[dict[str, Any]] = [
        {"MetricName": RUN_FAILED, "Dimensions": env, "Value": 1.0 if report.failed else 0.0, "Unit": "Count"}
    ]
    totals = _figures(report.days, report.rows, report.bytes)
    data += [{"MetricName": n, "Dimensions": env, "Value": totals[n], "Unit": u} for n, u in DROPPED]
    return data


def publish(cloudwatch: Any, report: Report) -> None:
    """One PutMetricData call: four datapoints."""
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=metric_data(report))
