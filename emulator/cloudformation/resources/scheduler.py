"""``AWS::Scheduler::Schedule`` (moto 5.2.5 has no CloudFormation type for EventBridge Scheduler).

The properties are checked against the resource schema and the expression as CreateSchedule checks it
(emulator/scheduler/expressions.py), then the schedule is created in moto's scheduler backend, where the
local AWS's scheduler fires it on its clock (emulator/scheduler/models.py). Ref gives the schedule's name,
GetAtt ``Arn`` its ARN. ``Name`` and ``GroupName`` are create-only; every other property is updated in place.
"""

from __future__ import annotations

from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import EventBridgeSchedulerBackend, scheduler_backends

from emulator.cloudformation.resources.base import CfnResource
from emulator.cloudformation.resources.schema import check_properties
from emulator.scheduler import models
from emulator.scheduler.expressions import validate


def _backend(account_id: str, region: str) -> EventBridgeSchedulerBackend:
    return scheduler_backends[account_id][region]


def _args(name: str, props: dict[str, Any]) -> dict[str, Any]:
    validate(str(props["ScheduleExpression"]), props.get("ScheduleExpressionTimezone"))
    return {
        "description": props.get("Description"),
        "end_date": props.get("EndDate"),
        "flexible_time_window": dict(props.get("FlexibleTimeWindow") or {}),
        "group_name": props.get("GroupName") or "default",
        "kms_key_arn": props.get("KmsKeyArn"),
        "name": name,
        "schedule_expression": props["ScheduleExpression"],
        "schedule_expression_timezone": props.get("ScheduleExpressionTimezone"),
        "start_date": props.get("StartDate"),
        "state": props.get("State"),
        "target": dict(props["Target"]),
        "action_after_completion": None,
    }


class Schedule(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::Scheduler::Schedule"
    CFN_NAME_TYPE = "Name"
    CFN_ATTRS = ("Arn",)

    def __init__(self, name: str, group: str, arn: str) -> None:
        self.name = name
        self.group = group
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        spec = check_properties(cls.CFN_TYPE, resource_name, props)
        made = _backend(account_id, region_name).create_schedule(**_args(resource_name, spec))
        models.remember(made.arn)
        return cls(made.name, made.group_name, made.arn)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        spec = check_properties(self.CFN_TYPE, self.name, props)
        args = _args(self.name, spec)
        args.pop("action_after_completion")  # UpdateSchedule in moto 5.2.5 does not take it
        _backend(account_id, region_name).update_schedule(**args)
        models.remember(self.arn)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_schedule(props.get("GroupName") or "default", physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_schedule(self.group, self.name)
