"""The retention schedule step's pure diff: a schedule disabled, deleted, retargeted or re-timed outside
CloudFormation is a change per property back to the template's definition; an equal one, one the stack just
made and an env whose stack has no schedule yet are none."""

from __future__ import annotations

from typing import Any

from tasks.steps.retention_schedule import Desired, Observed, diff

NAME = "otlp2pipeline-dev-retention"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:otlp2pipeline-dev-retention"
ROLE = "arn:aws:iam::123456789012:role/otlp2pipeline-dev-RetentionScheduleRole-X"
DEFINITION: dict[str, Any] = {
    "Name": NAME,
    "Description": "Runs the retention function daily",
    "ScheduleExpression": "cron(15 0 * * ? *)",
    "ScheduleExpressionTimezone": "UTC",
    "FlexibleTimeWindow": {"Mode": "OFF"},
    "State": "ENABLED",
    "Target": {
        "Arn": FUNCTION,
        "RoleArn": ROLE,
        "Input": '{"scheduled_time": "<aws.scheduler.scheduled-time>"}',
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
    },
}
WANT = Desired(NAME, True, DEFINITION)


def _live(**changed: Any) -> dict[str, Any]:
    """GetSchedule's answer: the definition, its ARN and dates, and what the template leaves out absent."""
    out = {**DEFINITION, "Arn": f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{NAME}"}
    out.update(
        GroupName="default", CreationDate="2026-12-06", LastModificationDate="2026-12-06", EndDate=None
    )
    return {**out, **changed}


def test_the_templates_schedule_is_no_change():
    assert diff(WANT, Observed(NAME, True, _live())).empty
    assert diff(WANT, Observed(NAME, True, dict(DEFINITION))).empty  # the stack made it in this run


def test_disabled_is_one_update_of_its_state():
    (change,) = diff(WANT, Observed(NAME, True, _live(State="DISABLED"))).changes
    assert (change.action, change.resource) == ("update", f"schedule {NAME}")
    assert change.fields == {"State": ("DISABLED", "ENABLED")}
    assert change.reason.startswith("disabled outside CloudFormation")


def test_deleted_is_a_create_of_the_whole_definition():
    (change,) = diff(WANT, Observed(NAME, True, None)).changes
    assert change.action == "create" and change.reason.startswith("deleted outside CloudFormation")
    assert change.fields["ScheduleExpression"] == (None, "cron(15 0 * * ? *)")
    assert change.fields["Target"] == (None, DEFINITION["Target"]) and "Name" not in change.fields


def test_retargeted_and_re_timed_show_each_property():
    target = {**DEFINITION["Target"], "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x"}
    target["DeadLetterConfig"] = {"Arn": "arn:aws:sqs:us-east-1:123456789012:q"}
    del target["RetryPolicy"]
    live = _live(Target=target, ScheduleExpression="rate(1 hours)", EndDate="2027-01-01")
    (change,) = diff(WANT, Observed(NAME, True, live)).changes
    assert change.reason.startswith("retargeted outside CloudFormation")
    assert change.fields == {
        "ScheduleExpression": ("rate(1 hours)", "cron(15 0 * * ? *)"),
        "EndDate": ("2027-01-01", None),
        "Target.Arn": ("arn:aws:lambda:us-east-1:123456789012:function:x", FUNCTION),
        "Target.RetryPolicy": (None, DEFINITION["Target"]["RetryPolicy"]),
        "Target.DeadLetterConfig": ({"Arn": "arn:aws:sqs:us-east-1:123456789012:q"}, None),
    }


def test_nothing_to_compare_before_the_stack_or_its_outputs():
    no_stack = diff(Desired(NAME), Observed(NAME))
    assert no_stack.empty and no_stack.notes == ["no stack yet: its create makes the retention schedule"]
    no_outputs = diff(Desired(NAME, True), Observed(NAME))
    assert no_outputs.empty and "outputs naming the schedule's target" in no_outputs.notes[0]
