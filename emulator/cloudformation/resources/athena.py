"""Athena in a stack: ``AWS::Athena::WorkGroup`` (moto has none), through the local Athena's workgroups
(emulator/athena/workgroups.py), so a stack's workgroup is the one queries run in.

Its properties are checked against the resource schema (``Name`` required and create-only: a new name
replaces it; ``BytesScannedCutoffPerQuery`` at least 10,000,000; no unknown property), then as the API
checks them. An update changes the workgroup in place: ``WorkGroupConfiguration`` is its whole
configuration (the deprecated ``WorkGroupConfigurationUpdates`` applies as ``UpdateWorkGroup`` does),
``Description``, ``State`` and ``Tags``. A delete fails, "WorkGroup NAME is not empty", when the
workgroup has run queries, unless ``RecursiveDeleteOption`` is true. Ref gives the name; GetAtt
``CreationTime`` and ``WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion``.
"""

from __future__ import annotations

import datetime
from typing import Any, Self

from moto.core.common_models import CloudFormationModel

from emulator.athena import models, workgroups
from emulator.cloudformation.resources.base import CfnResource
from emulator.cloudformation.resources.schema import check_properties


class WorkGroup(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::Athena::WorkGroup"
    CFN_ATTRS = ("CreationTime", "WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion")

    def __init__(self, account_id: str, region: str, name: str, recursive: bool) -> None:
        self.account_id = account_id
        self.region = region
        self.name = name
        self.recursive = recursive

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        wg = workgroups.find(self.account_id, self.region, self.name)
        if attribute_name == "CreationTime":
            return datetime.datetime.fromtimestamp(wg.creation_time, datetime.UTC).isoformat()
        return str((wg.configuration.get("EngineVersion") or {}).get("EffectiveEngineVersion", ""))

    @staticmethod
    def _apply(wg: Any, spec: dict[str, Any]) -> None:
        if spec.get("WorkGroupConfigurationUpdates") is not None:
            workgroups.apply_updates(wg, spec["WorkGroupConfigurationUpdates"])
        wg.description = spec.get("Description") or ""
        wg.state = spec.get("State") or "ENABLED"

    @staticmethod
    def _tags(account_id: str, region: str, wg: Any, tags: list[dict[str, str]]) -> None:
        backend = workgroups.backend(account_id, region)
        wanted = {str(t["Key"]): str(t["Value"]) for t in tags}
        stale = [k for k in backend.tagger.get_tag_dict_for_resource(wg.arn) if k not in wanted]
        if stale:
            backend.untag_resource(wg.arn, stale)
        if wanted:
            backend.tag_resource(wg.arn, wanted)

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        spec = check_properties(cls.CFN_TYPE, resource_name, props)
        name = str(spec["Name"])
        wg = workgroups.create(
            account_id,
            region_name,
            name,
            spec.get("WorkGroupConfiguration"),
            spec.get("Description"),
            list(spec.get("Tags") or []),
        )
        cls._apply(wg, spec)
        return cls(account_id, region_name, name, bool(spec.get("RecursiveDeleteOption")))

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        spec = check_properties(self.CFN_TYPE, self.name, props)
        wg = workgroups.find(account_id, region_name, self.name)
        workgroups.replace_configuration(wg, spec.get("WorkGroupConfiguration") or {})
        self._apply(wg, spec)
        self._tags(account_id, region_name, wg, list(spec.get("Tags") or []))
        self.recursive = bool(spec.get("RecursiveDeleteOption"))

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        cls(account_id, region_name, physical_id, bool(props.get("RecursiveDeleteOption"))).delete(
            account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        def in_use(name: str) -> bool:
            return bool(models.in_workgroup(account_id, region_name, name))

        if self.name not in workgroups.backend(account_id, region_name).work_groups:
            return  # gone already: a delete of what is not there succeeds, as CloudFormation's does
        workgroups.delete(account_id, region_name, self.name, self.recursive, in_use)
        models.forget_workgroup(account_id, region_name, self.name)
