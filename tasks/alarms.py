"""The env's CloudWatch alarms: one row per thing that can break, the one source of truth for them.

templates/alarms.yaml.j2 renders `alarms(config)` into the stack, `doit status` reads them back with one
DescribeAlarms by name prefix (tasks/steps/alarms.py), `doit doctor` maps one in ALARM to its cause by
the row's `cause` (tasks/doctor/alarms.py), and verify/test_alarms.py checks them on a real account.

A new alarm is one more `Row` in ROWS: a cause (the alarm name's last part), the scope it repeats over
(SCOPES: every stream, the ingest function, the env's retention runs), the metric exactly as the service's
developer guide lists it, or as our retention run publishes it (`source` cites it), and its evaluation.
Alarm names are `otlp2pipeline-ENV-SCOPE-CAUSE` (Config.alarm_name), so each names what broke.

TreatMissingData is chosen per row: the Firehose and Lambda metrics here are published only while there
is traffic (Firehose publishes DeliveryToIceberg.* per delivery attempt, Lambda its metrics per
invocation), so no data means no traffic, and no traffic is not a failure: `notBreaching` (the CloudWatch
guide's advice for metrics that report only when something happens). A retention run is due every day,
so for `retention-missing` no data is exactly the failure: `breaching`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from retention.metrics import NAMESPACE
from tasks.config import Config

FIREHOSE_NAMESPACE = "AWS/Firehose"
LAMBDA_NAMESPACE = "AWS/Lambda"
FIREHOSE_GUIDE = "Amazon Data Firehose Developer Guide, Apache Iceberg destination: Monitor metrics"
LAMBDA_GUIDE = "AWS Lambda Developer Guide, Types of metrics for Lambda functions"
RETENTION_NAMESPACE = NAMESPACE  # what every retention run publishes (retention/metrics.py)
RETENTION_SOURCE = (
    "retention/metrics.py: every run publishes RunFailed (1 failed, 0 succeeded), dimension Env"
)
RETENTION_MISSING_PERIOD = 26 * 3600  # a day between runs, and two hours' grace

# What an alarm repeats over: scope name -> [(scope, metric dimensions)] for the env.
Scopes = Callable[[Config], list[tuple[str, dict[str, str]]]]


def _streams(config: Config) -> list[tuple[str, dict[str, str]]]:
    return [(s, {"DeliveryStreamName": config.stream_name(s)}) for s in config.signals]


def _ingest(config: Config) -> list[tuple[str, dict[str, str]]]:
    if not config.ingest.function.enabled:
        return []
    return [("ingest", {"FunctionName": config.ingest_function_name})]


def _retention(config: Config) -> list[tuple[str, dict[str, str]]]:
    return [("retention", {"Env": config.env})] if config.retention_enabled else []


SCOPES: dict[str, Scopes] = {"stream": _streams, "ingest": _ingest, "retention": _retention}


@dataclass(frozen=True)
class Row:
    """One kind of alarm; `threshold` and `describe` read the config (a setting, the stream's name)."""

    cause: str
    scope: str  # a key of SCOPES
    namespace: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str
    threshold: Callable[[Config], float]
    treat_missing_data: str
    describe: Callable[[Config, str], str]  # (config, scope) -> what broke, in a sentence
    source: str  # where the metric, its dimension and statistic are documented


@dataclass(frozen=True)
class Alarm:
    """One alarm of the env, as the stack declares it and DescribeAlarms returns it."""

    name: str
    logical_id: str
    cause: str
    scope: str
    description: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str
    threshold: float
    treat_missing_data: str

    def template(self) -> dict[str, Any]:
        """The values templates/alarms.yaml.j2 renders (and the properties DescribeAlarms reads back)."""
        return {
            "logical_id": self.logical_id,
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "Namespace": self.namespace,
            "MetricName": self.metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
            "Statistic": self.statistic,
            "Period": self.period,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "ComparisonOperator": self.comparison,
            "Threshold": self.threshold,
            "TreatMissingData": self.treat_missing_data,
        }


def _doctor(config: Config) -> str:
    return f"`doit doctor env={config.env}` names the cause and the fix"


def _delivery_failing(config: Config, signal: str) -> str:
    return (
        f"No commit of stream {config.stream_name(signal)} into its Iceberg table succeeded for 5 minutes "
        f"while records arrived (DeliveryToIceberg.Success below 1): Firehose is retrying, and what it "
        f"cannot deliver within firehose.retry_duration_seconds goes to the error bucket. {_doctor(config)}."
    )


def _error_bucket(config: Config, signal: str) -> str:
    return (
        f"Records of stream {config.stream_name(signal)} went to the error bucket under "
        f"{config.error_prefix(signal)} (DeliveryToIceberg.FailedRowCount above 0): they are not in the "
        f"table. {_doctor(config)}."
    )


def _stale(config: Config, signal: str) -> str:
    return (
        f"The oldest record waiting in stream {config.stream_name(signal)} is older than "
        f"{config.alarms.freshness_seconds} s (DeliveryToIceberg.DataFreshness, alarms.freshness_seconds): "
        f"delivery is slow or stalled. {_doctor(config)}."
    )


def _ingest_errors(config: Config, scope: str) -> str:
    return (
        f"The ingest function {config.ingest_function_name} failed invocations (Errors above 0): its URL "
        f"answered 502 and the exporters retry. {_doctor(config)}."
    )


def _ingest_throttled(config: Config, scope: str) -> str:
    return (
        f"Invocations of the ingest function {config.ingest_function_name} were throttled (Throttles above "
        f"0): its URL answered 429 (ingest.reserved_concurrency, or the account's concurrency). "
        f"{_doctor(config)}."
    )


def _timeout_ms(config: Config) -> float:
    return config.ingest.function_timeout * 1000.0


def _ingest_slow(config: Config, scope: str) -> str:
    return (
        f"An invocation of the ingest function {config.ingest_function_name} ran for more than half its "
        f"timeout ({_timeout_ms(config) / 2000:g} s of {_timeout_ms(config) / 1000:g} s, Duration Maximum). "
        f"The receiver resends to Firehose until ingest.sender_deadline_seconds "
        f"({config.ingest.sender_deadline_seconds} s) and then answers 503, so Firehose refused or throttled "
        f"its records. {_doctor(config)}."
    )


def _retention_failed(config: Config, scope: str) -> str:
    return (
        f"The last retention run of env {config.env} failed (RunFailed): days older than the window stay "
        f"until a run succeeds. Its log is /aws/lambda/{config.retention_function_name}. {_doctor(config)}."
    )


def _retention_missing(config: Config, scope: str) -> str:
    return (
        f"No retention run of env {config.env} succeeded in the last 26 hours (RunFailed, missing data "
        f"breaching): the daily schedule {config.retention_schedule_name} did not run the function, or every "
        f"run failed. {_doctor(config)}."
    )


ROWS: tuple[Row, ...] = (
    Row(
        cause="delivery-failing",
        scope="stream",
        namespace=FIREHOSE_NAMESPACE,
        metric="DeliveryToIceberg.Success",
        statistic="Sum",
        period=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="LessThanThreshold",
        threshold=lambda c: 1.0,
        treat_missing_data="notBreaching",
        describe=_delivery_failing,
        source=FIREHOSE_GUIDE
        + ': "DeliveryToIceberg.Success: Sum of successful commits to Apache Iceberg Tables"',
    ),
    Row(
        cause="records-to-error-bucket",
        scope="stream",
        namespace=FIREHOSE_NAMESPACE,
        metric="DeliveryToIceberg.FailedRowCount",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanThreshold",
        threshold=lambda c: 0.0,
        treat_missing_data="notBreaching",
        describe=_error_bucket,
        source=FIREHOSE_GUIDE
        + ': "DeliveryToIceberg.FailedRowCount: Number of failed rows delivered to S3 backup '
        'bucket", Count',
    ),
    Row(
        cause="data-stale",
        scope="stream",
        namespace=FIREHOSE_NAMESPACE,
        metric="DeliveryToIceberg.DataFreshness",
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanThreshold",
        threshold=lambda c: float(c.alarms.freshness_seconds),
        treat_missing_data="notBreaching",
        describe=_stale,
        source=FIREHOSE_GUIDE
        + ': "DeliveryToIceberg.DataFreshness: The age (from getting into Firehose to now) of '
        'the earliest record in Firehose", Seconds',
    ),
    Row(
        cause="errors",
        scope="ingest",
        namespace=LAMBDA_NAMESPACE,
        metric="Errors",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanThreshold",
        threshold=lambda c: 0.0,
        treat_missing_data="notBreaching",
        describe=_ingest_errors,
        source=LAMBDA_GUIDE
        + ': "Errors: the number of invocations that result in a function error", FunctionName',
    ),
    Row(
        cause="throttled",
        scope="ingest",
        namespace=LAMBDA_NAMESPACE,
        metric="Throttles",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanThreshold",
        threshold=lambda c: 0.0,
        treat_missing_data="notBreaching",
        describe=_ingest_throttled,
        source=LAMBDA_GUIDE
        + ': "Throttles: the number of invocation requests that are throttled", FunctionName',
    ),
    Row(
        cause="near-timeout",
        scope="ingest",
        namespace=LAMBDA_NAMESPACE,
        metric="Duration",
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanThreshold",
        threshold=lambda c: _timeout_ms(c) / 2,
        treat_missing_data="notBreaching",
        describe=_ingest_slow,
        source=LAMBDA_GUIDE + ': "Duration: the amount of time that your function code spends processing an '
        'event", Milliseconds, FunctionName',
    ),
    # Minimum over an hour: every run in it failed. A run that succeeds (after the repair, `doit retention`)
    # turns it OK at the next evaluation; a daily run's hour holds only that run.
    Row(
        cause="failed",
        scope="retention",
        namespace=RETENTION_NAMESPACE,
        metric="RunFailed",
        statistic="Minimum",
        period=3600,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanOrEqualToThreshold",
        threshold=lambda c: 1.0,
        treat_missing_data="notBreaching",
        describe=_retention_failed,
        source=RETENTION_SOURCE,
    ),
    # No run that succeeded in 26 hours: no run at all (missing data, breaching), or only failed ones.
    Row(
        cause="missing",
        scope="retention",
        namespace=RETENTION_NAMESPACE,
        metric="RunFailed",
        statistic="Minimum",
        period=RETENTION_MISSING_PERIOD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        comparison="GreaterThanOrEqualToThreshold",
        threshold=lambda c: 1.0,
        treat_missing_data="breaching",
        describe=_retention_missing,
        source=RETENTION_SOURCE,
    ),
)


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", text))


def alarms(config: Config) -> list[Alarm]:
    """Every alarm of the env, in template order (rows, then scopes)."""
    out = []
    for row in ROWS:
        for scope, dims in SCOPES[row.scope](config):
            out.append(
                Alarm(
                    name=config.alarm_name(scope, row.cause),
                    logical_id=f"{_camel(scope)}{_camel(row.cause)}Alarm",
                    cause=row.cause,
                    scope=scope,
                    description=row.describe(config, scope),
                    namespace=row.namespace,
                    metric=row.metric,
                    dimensions=tuple(dims.items()),
                    statistic=row.statistic,
                    period=row.period,
                    evaluation_periods=row.evaluation_periods,
                    datapoints_to_alarm=row.datapoints_to_alarm,
                    comparison=row.comparison,
                    threshold=row.threshold(config),
                    treat_missing_data=row.treat_missing_data,
                )
            )
    return out


def notify(config: Config) -> str:
    """Where the alarms go, in words (status, doctor, verify)."""
    if config.alarms.email:
        return f"email {config.alarms.email} (the stack's SNS topic {config.alarm_topic_name})"
    if config.alarms.topic_arn:
        return f"SNS topic {config.alarms.topic_arn}"
    return "nobody (set alarms.email or alarms.topic_arn)"
