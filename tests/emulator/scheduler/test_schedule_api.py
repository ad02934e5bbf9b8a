"""EventBridge Scheduler's API on the local AWS as strict as AWS (botocore's model, the API reference):
UpdateSchedule and CreateSchedule require the whole definition, UpdateSchedule replaces the schedule (what
it leaves out takes its default), CreateSchedule of a name held is a ConflictException (409), and GetSchedule
of a missing one a ResourceNotFoundException (404)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

DAILY = "cron(15 0 * * ? *)"
TARGET = {
    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
    "RoleArn": "arn:aws:iam::123456789012:role/r",
}
DEFINITION: dict[str, Any] = {
    "ScheduleExpression": DAILY,
    "FlexibleTimeWindow": {"Mode": "OFF"},
    "Target": TARGET,
}


def _error(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_of_a_held_name_conflicts_and_get_of_a_missing_one_is_not_found(emulator):
    scheduler = emulator.client("scheduler")
    scheduler.create_schedule(Name="nightly", Description="first", **DEFINITION)
    assert _error(scheduler.create_schedule, Name="nightly", **DEFINITION) == ("ConflictException", 409)
    assert scheduler.get_schedule(Name="nightly")["Description"] == "first"  # the first one is kept
    assert _error(scheduler.get_schedule, Name="absent") == ("ResourceNotFoundException", 404)
    scheduler.delete_schedule(Name="nightly")
    assert _error(scheduler.get_schedule, Name="nightly") == ("ResourceNotFoundException", 404)
    scheduler.create_schedule(Name="nightly", **DEFINITION)  # the name is free again


def test_update_requires_the_whole_definition_and_replaces_the_schedule(emulator):
    scheduler = emulator.client("scheduler")
    unchecked = emulator.client("scheduler", parameter_validation=False)  # as a raw request would
    scheduler.create_schedule(Name="nightly", State="DISABLED", Description="d", **DEFINITION)
    for left_out in ("ScheduleExpression", "FlexibleTimeWindow", "Target"):
        partial = {k: v for k, v in DEFINITION.items() if k != left_out}
        assert _error(unchecked.update_schedule, Name="nightly", State="ENABLED", **partial) == (
            "ValidationException",
            400,
        )
        assert _error(unchecked.create_schedule, Name="other", **partial) == ("ValidationException", 400)
    no_role = {**DEFINITION, "Target": {"Arn": TARGET["Arn"]}}
    assert _error(unchecked.update_schedule, Name="nightly", **no_role) == ("ValidationException", 400)
    held = scheduler.get_schedule(Name="nightly")
    assert held["State"] == "DISABLED" and held["Description"] == "d"  # no refused request changed it

    scheduler.update_schedule(Name="nightly", **DEFINITION)  # State and Description left out: defaults
    held = scheduler.get_schedule(Name="nightly")
    assert held["State"] == "ENABLED" and not held.get("Description")
    assert {k: held[k] for k in ("ScheduleExpression", "FlexibleTimeWindow")} == {
        "ScheduleExpression": DAILY,
        "FlexibleTimeWindow": {"Mode": "OFF"},
    }
    assert _error(scheduler.update_schedule, Name="absent", **DEFINITION) == (
        "ResourceNotFoundException",
        404,
    )
