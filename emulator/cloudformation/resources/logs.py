"""CloudWatch Logs in a stack: ``AWS::Logs::LogStream`` (moto 5.2.5 lacks it) and the in-place update of
``AWS::Logs::LogGroup`` (retention, tags): moto has none, so a change of ``RetentionInDays`` ended
UPDATE_COMPLETE and changed nothing.
"""

from __future__ import annotations

from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.logs.models import LogGroup, logs_backends

from emulator.cloudformation.resources.base import CfnResource


class LogStream(CfnResource, CloudFormationModel):
    """Ref gives the log stream name."""

    CFN_TYPE = "AWS::Logs::LogStream"
    CFN_NAME_TYPE = "LogStreamName"

    def __init__(self, group: str, name: str) -> None:
        self.group = group
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        group = props["LogGroupName"]
        name = props.get("LogStreamName", resource_name)
        logs_backends[account_id][region_name].create_log_stream(group, name)
        return cls(group, name)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        group = props.get("LogGroupName", "")
        logs_backends[account_id][region_name].delete_log_stream(group, physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = logs_backends[account_id][region_name]
        if self.group in backend.groups:  # deleting the group already took its streams
            backend.delete_log_stream(self.group, self.name)


def _update_log_group(
    cls: type[LogGroup],
    original_resource: LogGroup,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> LogGroup:
    """In place: LogGroupName is create-only, so a new name reaches the engine as a replacement."""
    props = cloudformation_json.get("Properties") or {}
    backend = logs_backends[account_id][region_name]
    name = original_resource.name
    if props.get("RetentionInDays") is not None:
        backend.put_retention_policy(name, props["RetentionInDays"])
    else:
        backend.delete_retention_policy(name)
    wanted = {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []}
    stale = [k for k in backend.list_tags_log_group(name) if k not in wanted and not k.startswith("aws:")]
    if stale:
        backend.untag_log_group(name, stale)
    if wanted:
        backend.tag_log_group(name, wanted)
    return original_resource


LogGroup.update_from_cloudformation_json = classmethod(_update_log_group)  # type: ignore[assignment]
