"""``AWS::CloudWatch::Alarm`` (moto 5.2.5 has no CloudFormation type for alarms).

The properties are checked against the resource schema, then the alarm is put as PutMetricAlarm puts it
(emulator/cloudwatch/alarms.py: the API's rules, INSUFFICIENT_DATA on create, the state kept on an
update, evaluated at once). Ref gives the alarm's name, GetAtt ``Arn`` its ARN. ``AlarmName`` is
create-only (a new name replaces the alarm); every other property is updated in place.
"""

from __future__ import annotations

from typing import Any, Self

from moto.core.common_models import CloudFormationModel

from emulator.cloudformation.resources.base import CfnResource
from emulator.cloudformation.resources.schema import check_properties
from emulator.cloudwatch import alarms, models


class MetricAlarm(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Alarm"
    CFN_NAME_TYPE = "AlarmName"
    CFN_ATTRS = ("Arn",)

    def __init__(self, account_id: str, region: str, name: str, arn: str) -> None:
        self.account_id = account_id
        self.region = region
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        spec = check_properties(cls.CFN_TYPE, resource_name, props)
        alarm = alarms.put_alarm(account_id, region_name, {**spec, "AlarmName": resource_name})
        return cls(account_id, region_name, alarm.name, alarm.alarm_arn)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        spec = check_properties(self.CFN_TYPE, self.name, props)
        wanted = spec.pop("Tags", None) or []  # PutMetricAlarm ignores tags on an update: tag it instead
        alarms.put_alarm(account_id, region_name, {**spec, "AlarmName": self.name})
        tagger = models.backend(account_id, region_name).tagger
        keys = {str(t["Key"]) for t in wanted}
        stale = [t["Key"] for t in tagger.list_tags_for_resource(self.arn)["Tags"] if t["Key"] not in keys]
        if stale:
            tagger.untag_resource_using_names(self.arn, stale)
        if wanted:
            tagger.tag_resource(self.arn, [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in wanted])

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        models.backend(account_id, region_name).delete_alarms([physical_id])

    def delete(self, account_id: str, region_name: str) -> None:
        models.backend(account_id, region_name).delete_alarms([self.name])
