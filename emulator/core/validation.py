"""Validate a request member against its botocore shape, as the service does before anything else.

boto3 refuses unknown members client-side, but other clients (the AWS CLI with a JSON file, SDKs built from
older models, `parameter_validation=False`) reach the service, which answers a validation error: unknown
members, wrong types, enum values, length limits and number ranges are refused, never silently stored;
with ``patterns=True`` also strings that do not match the shape's pattern (as a whole; a pattern Python's
``re`` cannot read, such as a Java surrogate range, is not checked).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.protocol import service_model


def check(
    service: str,
    shape_name: str,
    value: Any,
    where: str,
    code: str = "InvalidInputException",
    patterns: bool = False,
) -> None:
    """Raise ``code`` naming the first member of ``value`` that ``shape_name`` does not allow."""
    problem = _problem(service_model(service).shape_for(shape_name), value, where, patterns)
    if problem is not None:
        raise AwsError(code, f"1 validation error detected: {problem}")


def _problem(shape: Any, value: Any, where: str, patterns: bool = False) -> str | None:
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
                found = _problem(members[name], member, f"{where}.{name}", patterns)
                if found:
                    return found
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"Value at '{where}' must be a list"
        return _length(shape, len(value), where) or next(
            (
                p
                for i, v in enumerate(value)
                if (p := _problem(shape.member, v, f"{where}.{i + 1}", patterns))
            ),
            None,
        )
    if kind == "map":
        if not isinstance(value, dict):
            return f"Value at '{where}' must be a map"
        for k, v in value.items():
            found = _problem(shape.key, k, f"{where}.key", patterns) or _problem(
                shape.value, v, f"{where}.{k}", patterns
            )
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
        pattern = shape.metadata.get("pattern") if patterns else None
        regex = _compiled(pattern) if pattern else None
        if regex is not None and not regex.fullmatch(value):
            return (
                f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy regular "
                f"expression pattern: {pattern}"
            )
        return _length(shape, len(value), where)
    if kind == "boolean" and not isinstance(value, bool):
        return f"Value at '{where}' must be a boolean"
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"Value at '{where}' must be an integer"
        return _length(shape, value, where, f"Value '{value}' at '{where}'", "value")
    return None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _length(shape: Any, n: int, where: str, subject: str = "", measure: str = "length") -> str | None:
    """The model's min/max for ``n``: a length (strings, lists, maps) or a value (numbers)."""
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    rule = f"{subject or f'Value at {where!r}'} failed to satisfy constraint: Member must have {measure}"
    if lo is not None and n < lo:
        return f"{rule} greater than or equal to {lo}"
    if hi is not None and n > hi:
        return f"{rule} less than or equal to {hi}"
    return None
