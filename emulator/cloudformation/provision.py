"""One resource at a time: moto's ResourceMap for a stack, create/delete of one resource with its events,
and the stack's outputs. The stack operations built on these are in engine.py.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from emulator.cloudformation.exceptions import NotSupported, ResourceFailed, ValidationError
from emulator.cloudformation.models import Res, Stack, now_utc, stack_exports
from emulator.core.exceptions import AwsError


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, AwsError):
        code, msg = exc.code, exc.message
    else:
        code = getattr(exc, "error_type", None) or getattr(exc, "code", None) or type(exc).__name__
        msg = getattr(exc, "message", None) or str(exc)
        if not isinstance(code, str):
            code = type(exc).__name__
    return f'Resource handler returned message: "{msg}" (HandlerErrorCode: {code})'


class Provisioner:
    def __init__(self, stack: Stack) -> None:
        self.s = stack

    # events
    def event(
        self,
        logical: str,
        rtype: str,
        status: str,
        physical: str = "",
        reason: str | None = None,
        props: Any = None,
    ) -> None:
        s = self.s
        s.events.append(
            {
                "StackId": s.id,
                "EventId": str(uuid.uuid4()),
                "StackName": s.name,
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": rtype,
                "Timestamp": now_utc(),
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "ResourceProperties": json.dumps(props) if props is not None else None,
            }
        )

    def fail(self, res: Res, rtype: str, status: str, reason: str) -> ResourceFailed:
        """Record a resource's failure (status, reason, event); the caller raises what this returns."""
        res.status, res.reason = status, reason
        self.event(res.logical_id, rtype, status, res.physical_id, reason)
        return ResourceFailed(res.logical_id)

    def stack_event(self, status: str, reason: str | None = None) -> None:
        self.s.status = status
        self.s.reason = reason
        self.event(self.s.name, "AWS::CloudFormation::Stack", status, self.s.id, reason)

    # resource map
    def new_rm(self, template: dict[str, Any], parameters: dict[str, str]) -> Any:
        from moto.cloudformation.parsing import ResourceMap

        rm = ResourceMap(
            self.s.id,
            self.s.name,
            dict(parameters),
            dict(self.s.tags),
            region_name=self.s.region,
            account_id=self.s.account_id,
            template=template,
            cross_stack_resources=stack_exports(self.s.account_id, self.s.region),
        )
        try:
            rm.load()
        except AwsError:
            raise
        except Exception as exc:
            raise ValidationError(str(getattr(exc, "message", None) or exc)) from exc
        rm.tags.update(
            {"aws:cloudformation:stack-name": self.s.name, "aws:cloudformation:stack-id": self.s.id}
        )
        return rm

    def resolve_props(self, rm: Any, body: dict[str, Any]) -> Any:
        from moto.cloudformation.parsing import clean_json

        return clean_json(copy.deepcopy(body.get("Properties", {})), rm)

    def create_one(self, rm: Any, logical: str, body: dict[str, Any]) -> Res | None:
        from moto.cloudformation.parsing import resource_class_from_type

        rtype = body.get("Type", "")
        cond = body.get("Condition")
        if cond and not rm.lazy_condition_map[cond]:
            return None
        res = Res(logical, rtype, status="CREATE_IN_PROGRESS")
        self.s.resources[logical] = res
        self.event(logical, rtype, "CREATE_IN_PROGRESS")
        try:
            if resource_class_from_type(rtype) is None:
                raise NotSupported(f"the emulator does not support resource type {rtype}")
            res.props = self.resolve_props(rm, body)
            rm._parsed_resources.pop(logical, None)
            inst = rm[logical]
            if inst is None:
                raise NotSupported(f"the emulator does not support resource type {rtype}")
        except Exception as exc:
            rm._parsed_resources.pop(logical, None)
            raise self.fail(res, rtype, "CREATE_FAILED", reason_of(exc)) from exc
        res.instance = inst
        res.physical_id = str(getattr(inst, "physical_resource_id", "") or "")
        res.status, res.reason, res.updated = "CREATE_COMPLETE", None, now_utc()
        self.event(logical, rtype, "CREATE_IN_PROGRESS", res.physical_id, "Resource creation Initiated")
        self.event(logical, rtype, "CREATE_COMPLETE", res.physical_id)
        return res

    def delete_instance(self, inst: Any, rtype: str, body: dict[str, Any]) -> None:
        from moto.cloudformation.parsing import parse_and_delete_resource

        if inst is None:
            return
        deleter = getattr(inst, "delete", None)
        if callable(deleter):
            try:
                deleter(self.s.account_id, self.s.region)
                return
            except TypeError:
                pass
        name = str(getattr(inst, "physical_resource_id", "") or "")
        parse_and_delete_resource(name, {"Type": rtype, **body}, self.s.account_id, self.s.region)

    def delete_one(self, res: Res, body: dict[str, Any], *, creating: bool = False) -> None:
        """Delete one resource, unless its DeletionPolicy keeps it: `Retain` always, `RetainExceptOnCreate`
        except when the stack operation that created it rolls back (``creating``)."""
        policy = body.get("DeletionPolicy") or "Delete"
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not creating):
            self.event(res.logical_id, res.type, "DELETE_SKIPPED", res.physical_id)
            return
        self.event(res.logical_id, res.type, "DELETE_IN_PROGRESS", res.physical_id)
        res.status = "DELETE_IN_PROGRESS"
        try:
            self.delete_instance(res.instance, res.type, body)
        except Exception as exc:
            raise self.fail(res, res.type, "DELETE_FAILED", reason_of(exc)) from exc
        res.status, res.reason = "DELETE_COMPLETE", None
        self.event(res.logical_id, res.type, "DELETE_COMPLETE", res.physical_id)

    def compute_outputs(self, rm: Any, template: dict[str, Any]) -> list[dict[str, Any]]:
        from moto.cloudformation.parsing import clean_json

        out = []
        for key, spec in (template.get("Outputs") or {}).items():
            cond = spec.get("Condition")
            if cond and not rm.lazy_condition_map.get(cond):
                continue
            try:
                value = clean_json(copy.deepcopy(spec.get("Value")), rm)
                export = spec.get("Export", {}).get("Name")
                export = clean_json(copy.deepcopy(export), rm) if export is not None else None
            except Exception:
                continue
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            item = {"OutputKey": key, "OutputValue": str(value), "Description": spec.get("Description")}
            if export:
                item["ExportName"] = str(export)
            out.append(item)
        return out


def load_template(rm: Any, template: dict[str, Any], parameters: dict[str, str]) -> None:
    """Point moto's ResourceMap at another template and parameters (update, and its rollback)."""
    rm._template = template
    rm._resource_json_map = template["Resources"]
    rm.input_parameters = dict(parameters)
    rm.resolved_parameters = {}
    rm.load_mapping()
    rm.load_parameters()
    rm.load_conditions()
