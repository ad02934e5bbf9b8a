"""Metric alarms as CloudWatch keeps them, on moto's CloudWatch backend.

moto 5.2.5 stores an alarm but never evaluates it, starts it in ``OK`` ("Unchecked: Initial alarm
creation"), replaces its state on every PutMetricAlarm, checks almost nothing of the request, and has no
DescribeAlarmHistory. Here, as the CloudWatch API reference says: PutMetricAlarm's rules are checked
(``check_alarm``), a new alarm starts in ``INSUFFICIENT_DATA`` and an update keeps its state (``put_alarm``,
alarms.py, which evaluates the alarm at once), each state change and configuration update is a history item,
and a state change runs the actions of the new state (``change_state``; the SNS action is
emulator/cloudwatch/actions.py). Evaluation on the local AWS's clock is emulator/cloudwatch/alarms.py.

What a moto ``Alarm`` does not hold rides on it as attributes: ``emu_history`` (newest last) and
``emu_evaluated_at`` (the clock minute of its last evaluation).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend, cloudwatch_backends

from emulator.cloudwatch.actions import run_action
from emulator.core import clock
from emulator.core.exceptions import AwsError

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
# The static-threshold operators, and the words StateReason uses for them.
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
BAND_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
MAX_ACTIONS = 5
HISTORY_KEEP = 1000  # per alarm; CloudWatch keeps 30 days of history


def backend(account_id: str, region: str) -> CloudWatchBackend:
    return cloudwatch_backends[account_id][region]


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def _int(spec: dict[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(f"The parameter {key} must be an integer: {value!r}.") from None


def check_alarm(spec: dict[str, Any], region: str) -> None:
    """PutMetricAlarm's rules (botocore's cloudwatch model and the API reference), before any change."""
    name = str(spec.get("AlarmName") or "")
    if not 1 <= len(name) <= 255 or re.search(r"[\x00-\x1f]", name):
        raise _invalid(f"AlarmName {name!r} must be 1 to 255 characters without control characters.")
    if len(str(spec.get("AlarmDescription") or "")) > 1024:
        raise _invalid("AlarmDescription must be at most 1024 characters.")
    metric, metrics = spec.get("MetricName"), spec.get("Metrics")
    if bool(metric) == bool(metrics):
        raise AwsError(
            "InvalidParameterCombination", "Exactly one of MetricName and Metrics must be specified."
        )
    comparison = spec.get("ComparisonOperator")
    operators = (*COMPARISONS, *BAND_COMPARISONS)
    if comparison not in operators:
        raise _invalid(
            f"1 validation error detected: Value {comparison!r} at 'comparisonOperator' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(operators)}]"
        )
    treat = spec.get("TreatMissingData")
    if treat is not None and treat not in TREAT_MISSING:
        raise _invalid(
            f"Option {treat} is not supported. Supported options for parameter TreatMissingData are "
            f"{', '.join(TREAT_MISSING)}."
        )
    periods = _int(spec, "EvaluationPeriods")
    if periods is None or periods < 1:
        raise _invalid("The parameter EvaluationPeriods must be an integer of at least 1.")
    datapoints = _int(spec, "DatapointsToAlarm")
    if datapoints is not None and not 1 <= datapoints <= periods:
        raise _invalid("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
    for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        actions = spec.get(key) or []
        if len(actions) > MAX_ACTIONS:
            raise _invalid(f"The parameter {key} may hold at most {MAX_ACTIONS} actions.")
        for arn in actions:
            parts = str(arn).split(":")
            if len(parts) > 3 and parts[2] == "sns" and parts[3] != region:
                raise _invalid(f"Invalid region {parts[3]} specified. Only {region} is supported.")
    if metrics:
        return
    _check_metric_alarm(spec, periods)


def _check_metric_alarm(spec: dict[str, Any], periods: int) -> None:
    if not spec.get("Namespace"):
        raise AwsError("MissingParameter", "The parameter Namespace is required with MetricName.")
    statistic, extended = spec.get("Statistic"), spec.get("ExtendedStatistic")
    if statistic and extended:
        raise AwsError(
            "InvalidParameterCombination", "Specify either Statistic or ExtendedStatistic, not both."
        )
    if not statistic and not extended:
        raise AwsError("MissingParameter", "The parameter Statistic or ExtendedStatistic is required.")
    if statistic and statistic not in STATISTICS:
        raise _invalid(
            f"1 validation error detected: Value {statistic!r} at 'statistic' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(STATISTICS)}]"
        )
    period = _int(spec, "Period")
    if period is None:
        raise AwsError("MissingParameter", "The parameter Period is required.")
    if period not in (10, 20, 30) and (period < 60 or period % 60):
        raise _invalid("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    limit = 86400 if period < 3600 else 604800
    if period * periods > limit:
        raise _invalid(
            f"The evaluation period (Period x EvaluationPeriods = {period * periods} s) must be at most "
            f"{limit} seconds."
        )
    if spec.get("Threshold") is None and not spec.get("ThresholdMetricId"):
        raise AwsError("MissingParameter", "The parameter Threshold is required.")
    if len(spec.get("Dimensions") or []) > 30:
        raise _invalid("An alarm's metric may have at most 30 dimensions.")


def now_utc() -> datetime:
    """The local AWS's clock as the naive UTC datetime moto keeps."""
    return datetime.fromtimestamp(clock.now(), UTC).replace(tzinfo=None)


def history(alarm: Alarm) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = getattr(alarm, "emu_history", None) or []
    alarm.emu_history = items  # type: ignore[attr-defined]
    return items


def add_history(
    alarm: Alarm, kind: str, summary: str, data: dict[str, Any], when: datetime | None = None
) -> None:
    """One DescribeAlarmHistory item: ConfigurationUpdate, StateUpdate or Action."""
    items = history(alarm)
    items.append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": when or now_utc(),
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        }
    )
    del items[:-HISTORY_KEEP]


def moto_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    threshold = spec.get("Threshold")
    return {
        "name": spec["AlarmName"],
        "namespace": spec.get("Namespace"),
        "metric_name": spec.get("MetricName"),
        "comparison_operator": spec["ComparisonOperator"],
        "evaluation_periods": int(spec["EvaluationPeriods"]),
        "period": int(spec["Period"]) if spec.get("Period") is not None else None,
        "threshold": float(threshold) if threshold is not None else None,
        "statistic": spec.get("Statistic"),
        "description": spec.get("AlarmDescription") or "",
        "dimensions": [{"Name": d["Name"], "Value": d["Value"]} for d in spec.get("Dimensions") or []],
        "alarm_actions": list(spec.get("AlarmActions") or []),
        "ok_actions": list(spec.get("OKActions") or []),
        "insufficient_data_actions": list(spec.get("InsufficientDataActions") or []),
        "datapoints_to_alarm": _int(spec, "DatapointsToAlarm"),
        "extended_statistic": spec.get("ExtendedStatistic"),
        "unit": spec.get("Unit"),
        "actions_enabled": _flag(spec.get("ActionsEnabled", True)),
        "treat_missing_data": spec.get("TreatMissingData") or "missing",
        "evaluate_low_sample_count_percentile": spec.get("EvaluateLowSampleCountPercentile"),
        "threshold_metric_id": spec.get("ThresholdMetricId"),
        "tags": [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in spec.get("Tags") or []],
    }


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def change_state(
    account_id: str,
    region: str,
    alarm: Alarm,
    state: str,
    reason: str,
    reason_data: dict[str, Any],
    when: datetime,
) -> None:
    """A state change: StateValue/Reason/ReasonData, a history item, and the new state's actions."""
    old = alarm.state_value
    alarm.state_value, alarm.state_reason = state, reason
    alarm.state_reason_data = json.dumps(reason_data)
    alarm.state_updated_timestamp = when
    add_history(
        alarm,
        "StateUpdate",
        f"Alarm updated from {old} to {state}",
        {
            "version": "1.0",
            "oldState": {"stateValue": old},
            "newState": {"stateValue": state, "stateReason": reason, "stateReasonData": reason_data},
        },
        when,
    )
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(
        state, alarm.insufficient_data_actions
    )
    if not alarm.actions_enabled or not actions:
        return
    for arn in actions:
        error = run_action(account_id, region, alarm, old, arn, when)
        summary = (
            f"Successfully executed action {arn}"
            if error is None
            else f'Failed to execute action {arn}. Received error: "{error}"'
        )
        add_history(
            alarm, "Action", summary, {"actionState": "Succeeded" if error is None else "Failed"}, when
        )


def describe(alarm: Alarm) -> dict[str, Any]:
    """The MetricAlarm structure DescribeAlarms returns."""
    out: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmDescription": alarm.description,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp,
        "ActionsEnabled": bool(alarm.actions_enabled),
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data,
        "StateUpdatedTimestamp": alarm.state_updated_timestamp,
        "StateTransitionedTimestamp": alarm.state_updated_timestamp,
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Period": alarm.period,
        "Unit": alarm.unit,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
        "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "ThresholdMetricId": alarm.threshold_metric_id,
    }
    return {k: v for k, v in out.items() if v is not None and v != ""}
