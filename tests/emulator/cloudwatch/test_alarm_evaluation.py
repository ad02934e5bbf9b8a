"""Metric alarms evaluated by the local AWS on its clock (emulator/cloudwatch/alarms.py), through boto3:
the state a new alarm starts in, TreatMissingData, M out of N, exact dimensions, an update that keeps the
state, and every transition made when the clock moves over several minutes."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.cloudwatch import metrics
from tests.cli.alarm_helpers import next_minute

NAMESPACE = "AWS/Firehose"
METRIC = "DeliveryToIceberg.FailedRowCount"
DIMS = {"DeliveryStreamName": "s"}


def _put(emu: Any, name: str = "a", **extra: Any) -> None:
    spec = {
        "AlarmName": name,
        "Namespace": NAMESPACE,
        "MetricName": METRIC,
        "Dimensions": [{"Name": k, "Value": v} for k, v in DIMS.items()],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        **extra,
    }
    emu.client("cloudwatch").put_metric_alarm(**spec)


def _alarm(emu: Any, name: str = "a") -> dict[str, Any]:
    (alarm,) = emu.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarm)


def _datapoint(emu: Any, value: float, dims: dict[str, str] | None = None) -> None:
    metrics.put(emu.account_id, emu.region, NAMESPACE, dims or DIMS, {METRIC: (value, "Count")})


def _history(emu: Any, name: str = "a") -> list[str]:
    items = emu.client("cloudwatch").describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")
    return [i["HistorySummary"] for i in items["AlarmHistoryItems"]]


@pytest.mark.parametrize(
    ("treat", "state"),
    [
        ("missing", "INSUFFICIENT_DATA"),
        ("ignore", "INSUFFICIENT_DATA"),
        ("notBreaching", "OK"),
        ("breaching", "ALARM"),
    ],
)
def test_without_data_treat_missing_data_decides(emulator: Any, treat: str, state: str) -> None:
    _put(emulator, TreatMissingData=treat)
    alarm = _alarm(emulator)
    assert alarm["StateValue"] == state and alarm["TreatMissingData"] == treat
    if treat in ("missing", "ignore"):  # a new alarm starts in INSUFFICIENT_DATA, and there it stays
        assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    if treat == "notBreaching":
        assert "1 missing datapoint was treated as [NonBreaching]" in alarm["StateReason"]


def test_a_breaching_minute_alarms_and_the_next_one_clears_with_not_breaching(emulator: Any) -> None:
    _put(emulator, TreatMissingData="notBreaching")
    next_minute(emulator)
    _datapoint(emulator, 3)
    _datapoint(emulator, 2)
    next_minute(emulator)
    alarm = _alarm(emulator)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [5.0 (")
    assert alarm["StateReason"].endswith("was greater than the threshold (0.0).")
    assert '"recentDatapoints": [5.0]' in alarm["StateReasonData"]
    next_minute(emulator)
    assert _alarm(emulator)["StateValue"] == "OK"
    assert _history(emulator)[-2:] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]


def test_a_datapoint_of_other_dimensions_is_not_the_alarms_metric(emulator: Any) -> None:
    _put(emulator, TreatMissingData="notBreaching")
    next_minute(emulator)
    _datapoint(emulator, 9, {"DeliveryStreamName": "other"})
    _datapoint(emulator, 9, {**DIMS, "Extra": "x"})
    next_minute(emulator)
    assert _alarm(emulator)["StateValue"] == "OK"


def test_m_out_of_n_needs_m_breaching_periods(emulator: Any) -> None:
    _put(emulator, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData="notBreaching")
    next_minute(emulator)
    _datapoint(emulator, 1)
    next_minute(emulator)
    assert _alarm(emulator)["StateValue"] == "OK"  # 1 of the last 3
    _datapoint(emulator, 1)
    next_minute(emulator)
    alarm = _alarm(emulator)
    assert alarm["StateValue"] == "ALARM"
    assert "2 out of the last 3 datapoints" in alarm["StateReason"]
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in alarm["StateReason"]


def test_moving_the_clock_far_makes_every_transition_in_between(emulator: Any) -> None:
    """10 minutes at once: ALARM at the minute after the datapoint, OK the minute after that."""
    _put(emulator, TreatMissingData="notBreaching")
    next_minute(emulator)
    _datapoint(emulator, 1)
    emulator.set_faults(
        {"clock": {"offset_seconds": 600 + emulator.faults()["faults"]["clock"]["offset_seconds"]}}
    )
    assert _alarm(emulator)["StateValue"] == "OK"
    assert _history(emulator)[-2:] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]
    items = emulator.client("cloudwatch").describe_alarm_history(
        AlarmName="a", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert (items[-1]["Timestamp"] - items[-2]["Timestamp"]).total_seconds() == 60


def test_an_update_keeps_the_state_and_a_missing_alarm_goes_insufficient(emulator: Any) -> None:
    _put(emulator, TreatMissingData="breaching")
    assert _alarm(emulator)["StateValue"] == "ALARM"
    _put(emulator, TreatMissingData="breaching", AlarmDescription="changed")
    alarm = _alarm(emulator)
    assert alarm["StateValue"] == "ALARM" and alarm["AlarmDescription"] == "changed"
    assert 'Alarm "a" updated' in _history(emulator)
    _put(emulator, TreatMissingData="missing")
    next_minute(emulator)
    alarm = _alarm(emulator)
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
