"""A resource's properties checked against its CloudFormation resource schema, as CloudFormation does
before it calls the type's handler ("Properties validation failed for resource X with message: ...").

The schemas are the ones cfn-lint ships (emulator/cloudformation/template.py ``resource_schema``); the
properties are the resolved ones (no intrinsics left). Like CloudFormation, a string that spells a number
or a boolean is taken for a property of that type, and a read-only property may not be given.
"""

from __future__ import annotations

from typing import Any

from emulator.cloudformation.template import resource_schema
from emulator.core.exceptions import AwsError


def _coerce(value: Any, spec: dict[str, Any]) -> Any:
    kinds = spec.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not isinstance(value, str) or "string" in kinds:
        return value
    try:
        if "integer" in kinds and value.strip().lstrip("-").isdigit():
            return int(value)
        if "number" in kinds:
            return float(value)
    except ValueError:
        return value
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def check_properties(resource_type: str, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """The properties, coerced as CloudFormation reads them; raises on the first schema violation."""
    from jsonschema import Draft7Validator

    schema = resource_schema(resource_type)
    if not schema:
        return dict(props)
    read_only = {p.split("/")[-1] for p in schema.get("readOnlyProperties", [])}
    declared = {k: v for k, v in (schema.get("properties") or {}).items() if k not in read_only}
    coerced = {k: _coerce(v, declared.get(k, {})) for k, v in props.items()}
    checked = {**schema, "properties": declared}
    for key in ("readOnlyProperties", "writeOnlyProperties", "createOnlyProperties", "primaryIdentifier"):
        checked.pop(key, None)
    errors = sorted(Draft7Validator(checked).iter_errors(coerced), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "#/" + "/".join(str(p) for p in first.absolute_path)
        raise AwsError(
            "InvalidRequest",
            f"Properties validation failed for resource {logical_id} with message: {where}: {first.message}",
        )
    return coerced
