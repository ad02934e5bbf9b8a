"""The CloudFormation API's reads: stacks, events, resources, templates, exports, template summaries.

``GetTemplateSummary`` (by ``StackName``, ``TemplateBody`` or ``TemplateURL``) and ``ValidateTemplate`` in
the botocore shapes. The AWS CLI's ``cloudformation deploy`` reads an existing stack's summary before its
update change set, and moto would answer from its own stack store, which does not know the engine's
stacks. Every other operation that names a stack and that the engine does not implement is refused with
``NotImplemented`` for the same reason: moto's answer ("does not exist") would be wrong, not just missing.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.cloudformation.exceptions import NotImplementedOperation, ValidationError
from emulator.cloudformation.models import (
    SVC,
    Res,
    Stack,
    existing_stack,
    find_change_set,
    live_stack,
    lock,
    present,
    stack_exports,
    state,
)
from emulator.cloudformation.responses import request_args, request_template_body, xml_ok
from emulator.cloudformation.template import (
    all_params,
    dependency_order,
    known_type,
    needed_capability,
    parse_template,
    resource_schema,
)
from emulator.core.query import page_token, token_position
from emulator.core.registry import OverrideRequest, OverrideResponse, register

# Events per DescribeStackEvents page. AWS's API reference gives no number; 100 is what public reports
# (e.g. ansible/ansible#41840) and other emulators measured.
EVENTS_PAGE = 100


def _stack_out(s: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StackId": s.id,
        "StackName": s.name,
        "Description": s.description,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(all_params(s).items())],
        "CreationTime": s.created,
        "LastUpdatedTime": s.updated,
        "DeletionTime": s.deleted,
        "StackStatus": s.visible_status,
        "StackStatusReason": s.visible_reason,
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": [],
        "Capabilities": s.capabilities,
        "Outputs": s.outputs if not s.hold else [],
        "RoleARN": s.role_arn,
        "Tags": [{"Key": k, "Value": v} for k, v in s.tags.items()],
        "EnableTerminationProtection": s.termination_protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        "ChangeSetId": s.change_set_id,
    }
    return present(out)


@register(SVC, "DescribeStacks")
def describe_stacks(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        name = a.get("StackName")
        if name:
            stacks = [existing_stack(st, name, f"Stack with id {name} does not exist", include_deleted=True)]
        else:
            stacks = [s for s in st.stacks.values() if s.deleted is None]
        return xml_ok(req, {"Stacks": [_stack_out(s) for s in stacks]})


@register(SVC, "ListStacks")
def list_stacks(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    wanted = set(a.get("StackStatusFilter") or [])
    with lock:
        out = []
        for s in state(req.account_id, req.region).stacks.values():
            status = s.visible_status
            if wanted and status not in wanted:
                continue
            item = {
                "StackId": s.id,
                "StackName": s.name,
                "TemplateDescription": s.description,
                "CreationTime": s.created,
                "LastUpdatedTime": s.updated,
                "DeletionTime": s.deleted,
                "StackStatus": status,
                "StackStatusReason": s.visible_reason,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
            }
            out.append(present(item))
        return xml_ok(req, {"StackSummaries": out})


@register(SVC, "DescribeStackEvents")
def describe_stack_events(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        name = a.get("StackName", "")
        s = existing_stack(st, name, f"Stack [{name}] does not exist", include_deleted=True)
        visible = s.visible_events
        end = len(visible)
        if a.get("NextToken"):
            got = token_position(a["NextToken"], s.id)
            if got is None or not 0 < got <= end:
                raise ValidationError("Invalid NextToken")
            end = got
        # Newest first, EVENTS_PAGE a page. The token counts from the oldest event, so events that
        # happen between two pages do not shift the later pages.
        start = max(0, end - EVENTS_PAGE)
        out: dict[str, Any] = {"StackEvents": [present(e) for e in reversed(visible[start:end])]}
        if start > 0:
            out["NextToken"] = page_token(s.id, start)
        return xml_ok(req, out)


def _resource_rows(s: Stack) -> list[Res]:
    order = dependency_order(s.template) if s.template else []
    return [s.resources[n] for n in order if n in s.resources]


def _resource_out(r: Res, time_key: str = "LastUpdatedTimestamp", **extra: Any) -> dict[str, Any]:
    """One resource as the Describe/List calls show it; ``extra`` adds the call's own fields."""
    return present(
        {
            **extra,
            "LogicalResourceId": r.logical_id,
            "PhysicalResourceId": r.physical_id,
            "ResourceType": r.type,
            time_key: r.updated,
            "ResourceStatus": r.status,
            "ResourceStatusReason": r.reason,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
        }
    )


@register(SVC, "DescribeStackResources")
def describe_stack_resources(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        physical = a.get("PhysicalResourceId")
        if a.get("StackName") or not physical:
            s = live_stack(st, a.get("StackName", ""))
        else:  # the stack that holds this physical resource
            found = [
                x
                for x in st.stacks.values()
                if x.deleted is None and any(r.physical_id == physical for r in x.resources.values())
            ]
            if not found:
                raise ValidationError(f"Stack for {physical} does not exist")
            s = found[0]
        rows = [
            r
            for r in _resource_rows(s)
            if not a.get("LogicalResourceId") or r.logical_id == a["LogicalResourceId"]
        ]
        out = [_resource_out(r, "Timestamp", StackName=s.name, StackId=s.id) for r in rows]
        return xml_ok(req, {"StackResources": out})


@register(SVC, "DescribeStackResource")
def describe_stack_resource(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        s = live_stack(state(req.account_id, req.region), a.get("StackName", ""))
        r = s.resources.get(a.get("LogicalResourceId", ""))
        if r is None:
            raise ValidationError(f"Resource {a.get('LogicalResourceId')} does not exist for stack {s.name}")
        out = _resource_out(r, StackName=s.name, StackId=s.id, Metadata="{}")
        return xml_ok(req, {"StackResourceDetail": out})


@register(SVC, "ListStackResources")
def list_stack_resources(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        s = live_stack(state(req.account_id, req.region), a.get("StackName", ""))
        out = [_resource_out(r) for r in _resource_rows(s)]
        return xml_ok(req, {"StackResourceSummaries": out})


@register(SVC, "GetTemplate")
def get_template(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        if a.get("ChangeSetName"):
            cs = find_change_set(st, a["ChangeSetName"], a.get("StackName"))
            return xml_ok(
                req, {"TemplateBody": cs.template_body, "StagesAvailable": ["Original", "Processed"]}
            )
        name = a.get("StackName", "")
        s = existing_stack(st, name, f"Stack with id {name} does not exist", include_deleted=True)
        return xml_ok(req, {"TemplateBody": s.template_body, "StagesAvailable": ["Original", "Processed"]})


@register(SVC, "ListExports")
def list_exports(req: OverrideRequest) -> OverrideResponse:
    with lock:
        exports = stack_exports(req.account_id, req.region)
        return xml_ok(
            req,
            {
                "Exports": [
                    {"ExportingStackId": e.exporting_stack_id, "Name": e.name, "Value": e.value}
                    for e in exports.values()
                ]
            },
        )


@register(SVC, "UpdateTerminationProtection")
def update_termination_protection(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        s = live_stack(state(req.account_id, req.region), a.get("StackName", ""))
        s.termination_protection = bool(a.get("EnableTerminationProtection"))
        return xml_ok(req, {"StackId": s.id})


# Operations that address a stack (StackName in their input) which the engine does not implement.
UNSUPPORTED = (
    "CancelUpdateStack",
    "DescribeChangeSetHooks",
    "DescribeEvents",
    "DescribeStackResourceDrifts",
    "DetectStackDrift",
    "DetectStackResourceDrift",
    "GetStackPolicy",
    "RollbackStack",
    "SetAlias",
    "SetStackPolicy",
    "SignalResource",
)


def _parameters(template: dict[str, Any], *, summary: bool) -> list[dict[str, Any]]:
    out = []
    for key, spec in (template.get("Parameters") or {}).items():
        spec = spec or {}
        item: dict[str, Any] = {
            "ParameterKey": key,
            "DefaultValue": str(spec["Default"]) if "Default" in spec else None,
            "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
            "Description": spec.get("Description"),
        }
        if summary:
            item["ParameterType"] = spec.get("Type")
            allowed = spec.get("AllowedValues")
            item["ParameterConstraints"] = {"AllowedValues": [str(v) for v in allowed]} if allowed else {}
        out.append(present(item))
    return out


def _capabilities(template: dict[str, Any]) -> dict[str, Any]:
    needed, types = needed_capability(template)
    if needed is None:
        return {}
    return {
        "Capabilities": [needed],
        "CapabilitiesReason": f"The following resource(s) require capabilities: [{', '.join(types)}]",
    }


def _transforms(template: dict[str, Any]) -> list[str] | None:
    declared = template.get("Transform")
    if declared is None:
        return None
    return [str(t) for t in declared] if isinstance(declared, list) else [str(declared)]


def _identifiers(resources: dict[str, Any]) -> list[dict[str, Any]]:
    """Per resource type: its logical ids and its primary identifier's properties (the type's schema)."""
    by_type: dict[str, list[str]] = {}
    for logical, body in resources.items():
        by_type.setdefault(str(body.get("Type", "")), []).append(logical)
    out = []
    for rtype, logical_ids in by_type.items():
        primary = resource_schema(rtype).get("primaryIdentifier") or []
        item: dict[str, Any] = {"ResourceType": rtype, "LogicalResourceIds": logical_ids}
        names = [p.split("/")[-1] for p in primary if p.startswith("/properties/")]
        if names:
            item["ResourceIdentifiers"] = names
        out.append(item)
    return out


@register(SVC, "GetTemplateSummary")
def get_template_summary(req: OverrideRequest) -> OverrideResponse | None:
    a = request_args(req)
    if a.get("StackSetName"):
        return None  # stack sets are moto's, not the engine's
    given = [k for k in ("StackName", "TemplateBody", "TemplateURL") if a.get(k)]
    if len(given) != 1:
        raise ValidationError("Specify exactly one of StackName, TemplateBody or TemplateURL.")
    config = a.get("TemplateSummaryConfig") or {}
    lenient = bool(config.get("TreatUnrecognizedResourceTypesAsWarnings"))
    with lock:
        if a.get("StackName"):
            name = a["StackName"]
            st = state(req.account_id, req.region)
            stack = existing_stack(st, name, f"Stack with id {name} does not exist", include_deleted=True)
            if not stack.template_body:  # REVIEW_IN_PROGRESS: no change set has run yet
                raise ValidationError(f"Stack with id {name} does not exist")
            body = stack.template_body
        else:
            body = request_template_body(req, a, None)
        template = parse_template(body, unknown_types=lenient, region=req.region)
    resources = template["Resources"]
    types = list(dict.fromkeys(str(r.get("Type", "")) for r in resources.values()))
    unknown = [t for t in types if not known_type(t, req.region)]
    metadata = template.get("Metadata")
    out = {
        "Parameters": _parameters(template, summary=True),
        "Description": template.get("Description"),
        **_capabilities(template),
        "ResourceTypes": types,
        "Version": template.get("AWSTemplateFormatVersion"),
        "Metadata": json.dumps(metadata) if metadata is not None else None,
        "DeclaredTransforms": _transforms(template) or [],
        "ResourceIdentifierSummaries": _identifiers(resources),
        "Warnings": {"UnrecognizedResourceTypes": unknown} if lenient else None,
    }
    return xml_ok(req, present(out))


@register(SVC, "ValidateTemplate")
def validate_template(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    template = parse_template(request_template_body(req, a, None), region=req.region)
    out = {
        "Parameters": _parameters(template, summary=False),
        "Description": template.get("Description"),
        **_capabilities(template),
        "DeclaredTransforms": _transforms(template),
    }
    return xml_ok(req, present(out))


def _refuse(req: OverrideRequest) -> OverrideResponse:
    raise NotImplementedOperation(f"the local AWS's CloudFormation engine does not implement {req.operation}")


for _operation in UNSUPPORTED:
    register(SVC, _operation)(_refuse)
