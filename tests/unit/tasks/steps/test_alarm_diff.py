"""The alarms step's pure diff: a missing alarm is a create with the template's properties, changed actions
an update of exactly those fields, an alarm in ALARM an alert and no change, and no stack no change."""

from __future__ import annotations

from typing import Any

from tasks.steps.alarms import Alarms, AlarmState, Wanted, diff

TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"
NAME = "otlp2pipeline-t-logs-delivery-failing"
SPEC: dict[str, Any] = {
    "AlarmName": NAME,
    "MetricName": "DeliveryToIceberg.Success",
    "Threshold": 1.0,
    "ActionsEnabled": True,
    "AlarmActions": [TOPIC],
    "OKActions": [TOPIC],
    "Tags": [{"Key": "otlp2pipeline:env", "Value": "t"}],
}
WANT = Wanted((NAME,), (TOPIC,), True, {NAME: SPEC})
NOTIFIES = {
    "ActionsEnabled": True,
    "AlarmActions": [TOPIC],
    "OKActions": [TOPIC],
    "InsufficientDataActions": [],
}


def _have(state: str = "OK", **notifies: Any) -> Alarms:
    alarm = AlarmState(NAME, state, "reason", "2026-12-06 10:00:00 UTC", {**NOTIFIES, **notifies})
    return Alarms((NAME,), {NAME: alarm}, "SNS topic")


def test_a_converged_alarm_is_no_change() -> None:
    d = diff(WANT, _have())
    assert d.empty and not d.alerts


def test_a_missing_alarm_is_created_with_the_templates_properties_but_its_name_and_tags() -> None:
    (change,) = diff(WANT, Alarms((NAME,), {}, "SNS topic")).changes
    assert (change.action, change.resource) == ("create", f"alarm {NAME}")
    assert change.fields == {k: (None, v) for k, v in SPEC.items() if k not in ("AlarmName", "Tags")}


def test_changed_actions_are_an_update_of_exactly_those_fields() -> None:
    (change,) = diff(WANT, _have(AlarmActions=["arn:aws:sns:us-east-1:1:x"], ActionsEnabled=False)).changes
    assert change.action == "update"
    assert change.fields == {
        "AlarmActions": (["arn:aws:sns:us-east-1:1:x"], [TOPIC]),
        "ActionsEnabled": (False, True),
    }


def test_an_alarm_in_alarm_is_an_alert_not_a_change() -> None:
    d = diff(WANT, _have("ALARM"))
    assert d.empty and d.alerts == [f"alarm {NAME} in ALARM since 2026-12-06 10:00:00 UTC: reason"]


def test_actions_are_not_compared_while_the_stacks_topic_is_unknown() -> None:
    want = Wanted((NAME,), None, True, {NAME: {**SPEC, "AlarmActions": [{"Ref": "AlarmTopic"}]}})
    assert diff(want, _have(AlarmActions=[])).empty


def test_without_a_stack_its_create_makes_the_alarms() -> None:
    d = diff(Wanted((NAME,), (TOPIC,), stack=False), Alarms((NAME,), {}, "SNS topic", stack=False))
    assert d.empty and d.notes
