"""Templates: parsing, parameters, capabilities, references and the dependency order.

Resource type knowledge (known types, create-only properties, primary identifiers) comes from the
CloudFormation resource schemas that cfn-lint ships.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.cloudformation.exceptions import InsufficientCapabilitiesException, ValidationError
from lake import cfn_schemas

if TYPE_CHECKING:
    from emulator.cloudformation.models import Stack

# -- resource type knowledge -----------------------------------------------------------------------


def resource_schema(resource_type: str) -> dict[str, Any]:
    """The type's CloudFormation resource schema (lake/cfn_schemas.py, the one reader the tool shares)."""
    return cfn_schemas.resource_schema(resource_type)


def create_only_properties(resource_type: str) -> set[str]:
    """Top-level property names whose change forces replacement."""
    return {path[0] for path in cfn_schemas.create_only(resource_type)}


def known_type(resource_type: str, region: str | None = None) -> bool:
    """A type CloudFormation has in ``region`` (cfn-lint's per-region provider schemas): one missing there,
    such as ``AWS::Lambda::Url`` where Lambda has no function URLs, is refused as AWS refuses it,
    "Unrecognized resource types"."""
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return True
    return cfn_schemas.known_type(resource_type, region or cfn_schemas.DEFAULT_REGION)


CONTAINER_PROPS = cfn_schemas.CONTAINERS
_IAM_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::AccessKey",
)
_IAM_NAME_PROPS = ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")


# -- templates and parameters ----------------------------------------------------------------------


def parse_template(body: str, *, unknown_types: bool = False, region: str | None = None) -> dict[str, Any]:
    """The template as a dict; ``unknown_types`` lets resource types CloudFormation lacks (in ``region``,
    when given) through."""
    from moto.cloudformation.models import Stack as MotoStack

    try:
        parsed = MotoStack.parse_template(body)
    except Exception as exc:
        raise ValidationError(f"Template format error: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValidationError("Template format error: JSON not well-formed.")
    if not isinstance(parsed.get("Resources"), dict) or not parsed["Resources"]:
        raise ValidationError("Template format error: At least one Resources member must be defined.")
    unknown = sorted(
        {r.get("Type", "") for r in parsed["Resources"].values() if not known_type(r.get("Type", ""), region)}
    )
    if unknown and not unknown_types:
        raise ValidationError(f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")
    return parsed


def resolve_parameters(
    template: dict[str, Any], given: list[dict[str, Any]], previous: dict[str, str] | None
) -> dict[str, str]:
    declared = template.get("Parameters") or {}
    out: dict[str, str] = {}
    unknown = []
    for p in given or []:
        key = str(p.get("ParameterKey"))
        if key not in declared:
            unknown.append(str(key))
            continue
        if p.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise ValidationError(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true "
                    "for a parameter key not in the previous template"
                )
            out[key] = previous[key]
        else:
            out[key] = str(p.get("ParameterValue", ""))
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [k for k, v in declared.items() if k not in out and "Default" not in (v or {})]
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    return out


def needed_capability(template: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The capability the template needs (None, CAPABILITY_IAM or CAPABILITY_NAMED_IAM), and the
    resource types that need it."""
    needed = None
    types: list[str] = []
    for res in template.get("Resources", {}).values():
        if res.get("Type") in _IAM_TYPES:
            if res["Type"] not in types:
                types.append(res["Type"])
            props = res.get("Properties") or {}
            if any(k in props for k in _IAM_NAME_PROPS):
                needed = "CAPABILITY_NAMED_IAM"
            needed = needed or "CAPABILITY_IAM"
    return needed, types


def check_capabilities(template: dict[str, Any], capabilities: list[str]) -> None:
    needed, _ = needed_capability(template)
    if needed is None:
        return
    have = set(capabilities or [])
    if "CAPABILITY_NAMED_IAM" in have or (needed == "CAPABILITY_IAM" and "CAPABILITY_IAM" in have):
        return
    raise InsufficientCapabilitiesException(f"Requires capabilities : [{needed}]")


def _refs(value: Any, names: set[str]) -> set[str]:
    return cfn_schemas.refs(value) & names


def _depends_on(body: dict[str, Any]) -> set[str]:
    depends = body.get("DependsOn") or []
    return {depends} if isinstance(depends, str) else set(depends)


def dependency_order(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    names = set(resources)
    deps: dict[str, set[str]] = {}
    for name, body in resources.items():
        d = _refs(body.get("Properties", {}), names) | _refs(body.get("Condition", {}), names)
        d |= _depends_on(body)
        missing = [x for x in d if x not in names]
        if missing:
            raise ValidationError(
                f"Template format error: Unresolved resource dependencies [{', '.join(sorted(missing))}] "
                "in the Resources block of the template"
            )
        deps[name] = d - {name}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise ValidationError(f"Circular dependency between resources: [{', '.join(sorted(set(path)))}]")
        state[n] = 1
        for d in sorted(deps[n]):
            visit(d, [*path, d])
        state[n] = 2
        order.append(n)

    for n in resources:
        visit(n, [n])
    return order


def dependents_of(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template.get("Resources", {})
    names = set(resources)
    out: dict[str, set[str]] = {n: set() for n in names}
    for name, body in resources.items():
        d = _refs(body.get("Properties", {}), names) | _depends_on(body)
        for x in d:
            if x in out:
                out[x].add(name)
    return out


def all_params(s: Stack) -> dict[str, str]:
    return effective_params(s.template, s.parameters)


def effective_params(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Every parameter's value: the given ones, and the template's default for the others."""
    out = {}
    for k, v in (template.get("Parameters") or {}).items():
        if "Default" in (v or {}):
            out[k] = str(v["Default"])
    out.update(given)
    return out
