"""CreateSchedule and UpdateSchedule: moto keeps the schedule; the request is checked first, as AWS does.

AWS refuses an expression it cannot read with ValidationException; the local AWS also refuses what it
cannot fire (expressions.py), rather than keep a schedule that would never run. Where moto is looser than
the botocore model and the API reference, this is as strict as AWS:
- both operations require the whole definition (ScheduleExpression, FlexibleTimeWindow with its Mode,
  Target with its Arn and RoleArn): a request without one is a ValidationException (400), nothing kept;
- CreateSchedule of a name the group already holds is a ConflictException (409; moto answers 400);
- UpdateSchedule replaces the whole schedule: an optional field the request leaves out takes its default
  (State ENABLED, no ActionAfterCompletion), where moto kept None or the old value.
A schedule created or updated fires from then on (models.remember).
"""

from __future__ import annotations

import json
from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from emulator.scheduler import models
from emulator.scheduler.expressions import InvalidExpression, validate

SERVICE = "scheduler"
DEFAULT_GROUP = "default"
# The definition both operations require (botocore's model: required members, and theirs).
REQUIRED = ("ScheduleExpression", "FlexibleTimeWindow", "Target")
REQUIRED_IN = {"FlexibleTimeWindow": ("Mode",), "Target": ("Arn", "RoleArn")}


def _backend(req: OverrideRequest) -> Any:
    from moto.scheduler.models import scheduler_backends

    return scheduler_backends[req.account_id][req.region]


def _require(body: dict[str, Any]) -> None:
    for member in REQUIRED:
        value = body.get(member)
        inner = REQUIRED_IN.get(member, ())
        if value in (None, "") or (inner and not isinstance(value, dict)):
            raise AwsError("ValidationException", f"{member} is required: Member must not be null", 400)
        for key in inner:
            if not value.get(key):
                raise AwsError(
                    "ValidationException", f"{member}.{key} is required: Member must not be null", 400
                )


def _checked(req: OverrideRequest) -> OverrideResponse:
    body = req.body
    _require(body)
    try:
        validate(str(body.get("ScheduleExpression", "")), body.get("ScheduleExpressionTimezone"))
    except InvalidExpression as exc:
        raise AwsError("ValidationException", str(exc), 400) from None
    response = req.forward()
    if response.status < 300:
        arn = json.loads(response.body or b"{}").get("ScheduleArn")
        if arn:
            models.remember(str(arn))
    return response


@register(SERVICE, "CreateSchedule")
def create_schedule(req: OverrideRequest) -> OverrideResponse:
    name, group = str(req.body.get("Name", "")), str(req.body.get("GroupName") or DEFAULT_GROUP)
    held = _backend(req).schedule_groups.get(group)
    if held is not None and name in held.schedules:
        raise AwsError("ConflictException", f"Schedule {name} already exists.", 409)
    return _checked(req)


@register(SERVICE, "UpdateSchedule")
def update_schedule(req: OverrideRequest) -> OverrideResponse:
    response = _checked(req)
    if response.status < 300:  # what the request left out takes its default, as UpdateSchedule does
        group = str(req.body.get("GroupName") or DEFAULT_GROUP)
        schedule = _backend(req).get_schedule(group, str(req.body.get("Name", "")))
        schedule.state = req.body.get("State") or "ENABLED"
        schedule.action_after_completion = req.body.get("ActionAfterCompletion")
    return response
