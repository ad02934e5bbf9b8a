"""Validate a request member against its botocore shape, as the service does before anything else.

boto3 refuses unknown members client-side, but other clients (the AWS CLI with a JSON file, SDKs built from
older models, `parameter_validation=False`) reach the service, which answers a validation error: unknown
members, wrong types, enum values and length limits are refused, never silently stored.
"""

from __future__ import annotations

from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.protocol import service_model


def check(service: str, shape_name: str, value: Any, where: str, code: str = "InvalidInputException") -> None:
    """Raise ``code`` naming the first member of ``value`` that ``shape_name`` does not allow."""
    problem = _problem(service_model(service).shape_for(shape_name), value, where)
    if problem is not None:
        raise AwsError(code, f"1 validation error detected: {problem}")


def _problem(shape: Any, value: Any, where: str) -> str | None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"Value at '{where}' must be a structure"
        # Members by their name on the wire (a JSON `locationName` such as Iceberg's "source-id").
        members = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        wire = {n: m.serialization.get("name", n) for n, m in shape.members.items()}
        for name in value:
            if name not in members:
                return f"Unknown member '{name}' at '{where}'"
        for name in shape.required_members:
            if value.get(wire[name]) is None:
                rule = "failed to satisfy constraint: Member must not be null"
                return f"Value null at '{where}.{wire[name]}' {rule}"
        for name, member in value.items():
            if member is not None:
                found = _problem(members[name], member, f"{where}.{name}")
                if found:
                    return found
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"Value at '{where}' must be a list"
        return _length(shape, len(value), where) or next(
            (p for i, v in enumerate(value) if (p := _problem(shape.member, v, f"{where}.{i + 1}"))), None
        )
    if kind == "map":
        if not isinstance(value, dict):
            return f"Value at '{where}' must be a map"
        for k, v in value.items():
            found = _problem(shape.key, k, f"{where}.key") or _problem(shape.value, v, f"{where}.{k}")
            if found:
                return found
        return _length(shape, len(value), where)
    if kind == "string":
        if not isinstance(value, str):
            return f"Value at '{where}' must be a string"
        if shape.enum and value not in shape.enum:
            return (
                f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy enum value "
                f"set: [{', '.join(shape.enum)}]"
            )
        return _length(shape, len(value), where)
    if kind == "boolean" and not isinstance(value, bool):
        return f"Value at '{where}' must be a boolean"
    if kind in ("integer", "long") and (isinstance(value, bool) or not isinstance(value, int)):
        return f"Value at '{where}' must be an integer"
    return None


def _length(shape: Any, n: int, where: str) -> str | None:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    rule = f"Value at '{where}' failed to satisfy constraint: Member must have length"
    if lo is not None and n < lo:
        return f"{rule} greater than or equal to {lo}"
    if hi is not None and n > hi:
        return f"{rule} less than or equal to {hi}"
    return None
