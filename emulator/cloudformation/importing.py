"""IMPORT change sets: which resources an import may take into a stack, checked as CloudFormation checks
them, for a new stack and for an existing one.

AWS's rules (the CloudFormation user guide, "Import AWS resources into a CloudFormation stack", and the
CDK's `cdk import`: "the only changes allowed in an import operation are the addition of new resources
being imported"): every resource to import is in the template, with its type, a DeletionPolicy, the
identifier its type schema names, exists, and belongs to no stack yet; into an existing stack, the template
is the stack's resources, unchanged, plus the imported ones (nothing else is added, changed or removed).
"""

from __future__ import annotations

from typing import Any

from emulator.cloudformation.exceptions import ValidationError
from emulator.cloudformation.models import Stack, State


def checked(
    st: State,
    stack: Stack | None,
    account_id: str,
    region: str,
    template: dict[str, Any],
    given: list[dict[str, Any]],
) -> dict[str, dict[str, str]]:
    """Logical id -> identifier of each resource to import; raises ValidationError as CloudFormation does."""
    from moto.cloudformation.parsing import resource_class_from_type

    from emulator.cloudformation.template import resource_schema

    existing = (stack.template.get("Resources") or {}) if stack is not None and stack.template else {}
    wanted = {str(r.get("LogicalResourceId")): r for r in given}
    for logical in sorted(set(existing) - set(template.get("Resources", {}))):
        raise ValidationError(f"As part of the import operation, you cannot remove [{logical}]")
    out: dict[str, dict[str, str]] = {}
    for logical, body in template.get("Resources", {}).items():
        item = wanted.pop(logical, None)
        rtype = body.get("Type", "")
        if logical in existing:
            if item is not None:
                raise ValidationError(
                    f"Resource [{logical}] already exists in the stack and cannot be imported"
                )
            if body != existing[logical]:
                raise ValidationError(
                    f"As part of the import operation, you cannot modify or add [{logical}]"
                )
            continue
        if item is None:
            raise ValidationError(f"As part of the import operation, you cannot modify or add [{logical}]")
        if item.get("ResourceType") != rtype:
            raise ValidationError(f"ResourceType of [{logical}] does not match the template: {rtype}")
        if not body.get("DeletionPolicy"):
            raise ValidationError(
                f"The following resources require a DeletionPolicy to be imported: [{logical}]"
            )
        identifier = {str(k): str(v) for k, v in (item.get("ResourceIdentifier") or {}).items()}
        keys = {p.rsplit("/", 1)[-1] for p in resource_schema(rtype).get("primaryIdentifier", [])}
        if set(identifier) != keys:
            raise ValidationError(
                f"Invalid ResourceIdentifier for [{logical}]: {rtype} is identified by {sorted(keys)}"
            )
        importer = getattr(resource_class_from_type(rtype), "cfn_import", None)
        if importer is None:
            raise ValidationError(f"ResourceType {rtype} does not support import")
        physical = str(importer(identifier, {}, account_id, region).physical_resource_id)
        owner = _owner(st, rtype, physical)
        if owner is not None:
            raise ValidationError(
                f"Resource [{logical}] ({physical}) already belongs to the stack [{owner}] and cannot be "
                "imported"
            )
        out[logical] = identifier
    if wanted:
        raise ValidationError(f"Resources to import are not in the template: [{', '.join(sorted(wanted))}]")
    return out


def _owner(st: State, rtype: str, physical: str) -> str | None:
    """The live stack that holds the resource of that type and physical id, if any."""
    for stack in st.stacks.values():
        if stack.deleted is not None:
            continue
        if any(r.type == rtype and r.physical_id == physical for r in stack.resources.values()):
            return stack.id
    return None
