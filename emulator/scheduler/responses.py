"""CreateSchedule and UpdateSchedule: moto keeps the schedule; its expression is checked first, as AWS does.

AWS refuses an expression it cannot read with ValidationException; the local AWS also refuses what it
cannot fire (expressions.py), rather than keep a schedule that would never run. A schedule created or
updated fires from then on (models.remember).
"""

from __future__ import annotations

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from emulator.scheduler import models
from emulator.scheduler.expressions import InvalidExpression, validate

SERVICE = "scheduler"


def _checked(req: OverrideRequest) -> OverrideResponse:
    body = req.body
    try:
        validate(str(body.get("ScheduleExpression", "")), body.get("ScheduleExpressionTimezone"))
    except InvalidExpression as exc:
        raise AwsError("ValidationException", str(exc), 400) from None
    response = req.forward()
    if response.status < 300:
        import json

        arn = json.loads(response.body or b"{}").get("ScheduleArn")
        if arn:
            models.remember(str(arn))
    return response


@register(SERVICE, "CreateSchedule")
def create_schedule(req: OverrideRequest) -> OverrideResponse:
    return _checked(req)


@register(SERVICE, "UpdateSchedule")
def update_schedule(req: OverrideRequest) -> OverrideResponse:
    return _checked(req)
