"""CloudFormation reads the engine (emulator/cfn_engine.py) answers besides its own: template summaries.

``GetTemplateSummary`` (by ``StackName``, ``TemplateBody`` or ``TemplateURL``) and ``ValidateTemplate`` in
the botocore shapes. The AWS CLI's ``cloudformation deploy`` reads an existing stack's summary before its
update change set, and moto would answer from its own stack store, which does not know the engine's
stacks. Every other operation that names a stack and that the engine does not implement is refused with
``NotImplemented`` for the same reason: moto's answer ("does not exist") would be wrong, not just missing.
"""

from __future__ import annotations

import json
from typing import Any

from emulator import cfn_engine as engine
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register

SVC = engine.SVC

# Operations that address a stack (StackName in their input) which the engine does not implement.
UNSUPPORTED = (
    "CancelUpdateStack",
    "ContinueUpdateRollback",
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
        out.append(engine._present(item))
    return out


def _capabilities(template: dict[str, Any]) -> dict[str, Any]:
    needed, types = engine.needed_capability(template)
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
        primary = engine._schema(rtype).get("primaryIdentifier") or []
        item: dict[str, Any] = {"ResourceType": rtype, "LogicalResourceIds": logical_ids}
        names = [p.split("/")[-1] for p in primary if p.startswith("/properties/")]
        if names:
            item["ResourceIdentifiers"] = names
        out.append(item)
    return out


@register(SVC, "GetTemplateSummary")
def get_template_summary(req: OverrideRequest) -> OverrideResponse | None:
    a = engine._args(req)
    if a.get("StackSetName"):
        return None  # stack sets are moto's, not the engine's
    given = [k for k in ("StackName", "TemplateBody", "TemplateURL") if a.get(k)]
    if len(given) != 1:
        raise engine._err("Specify exactly one of StackName, TemplateBody or TemplateURL.")
    config = a.get("TemplateSummaryConfig") or {}
    lenient = bool(config.get("TreatUnrecognizedResourceTypesAsWarnings"))
    with engine._lock:
        if a.get("StackName"):
            name = a["StackName"]
            st = engine._state(req.account_id, req.region)
            stack = engine._existing(st, name, f"Stack with id {name} does not exist", include_deleted=True)
            if not stack.template_body:  # REVIEW_IN_PROGRESS: no change set has run yet
                raise engine._err(f"Stack with id {name} does not exist")
            body = stack.template_body
        else:
            body = engine._template_body(req, a, None)
        template = engine.parse_template(body, unknown_types=lenient)
    resources = template["Resources"]
    types = list(dict.fromkeys(str(r.get("Type", "")) for r in resources.values()))
    unknown = [t for t in types if not engine.known_type(t)]
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
    return engine._ok(req, engine._present(out))


@register(SVC, "ValidateTemplate")
def validate_template(req: OverrideRequest) -> OverrideResponse:
    a = engine._args(req)
    template = engine.parse_template(engine._template_body(req, a, None))
    out = {
        "Parameters": _parameters(template, summary=False),
        "Description": template.get("Description"),
        **_capabilities(template),
        "DeclaredTransforms": _transforms(template),
    }
    return engine._ok(req, engine._present(out))


def _refuse(req: OverrideRequest) -> OverrideResponse:
    raise AwsError(
        "NotImplemented",
        f"the local AWS's CloudFormation engine does not implement {req.operation}",
        501,
    )


for _operation in UNSUPPORTED:
    register(SVC, _operation)(_refuse)
