"""AWS query protocol helpers driven by the botocore model: parse flattened params, serialize XML results."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from emulator.core.protocol import service_model


def parse_params(service: str, operation: str, params: dict[str, str]) -> dict[str, Any]:
    """``Parameters.member.1.ParameterKey=...`` -> ``{"Parameters": [{"ParameterKey": ...}]}``."""
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return {}
    out = _parse_struct(shape, params, "")
    return out if isinstance(out, dict) else {}


def _parse(shape: Any, params: dict[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _parse_struct(shape, params, prefix + ".")
    if kind == "list":
        items = []
        i = 1
        while True:
            key = f"{prefix}.member.{i}"
            if not any(k == key or k.startswith(key + ".") for k in params):
                break
            items.append(_parse(shape.member, params, key))
            i += 1
        if not items and params.get(prefix) == "":
            return []
        return items if items else None
    if kind == "map":
        out: dict[str, Any] = {}
        i = 1
        while f"{prefix}.entry.{i}.key" in params:
            out[params[f"{prefix}.entry.{i}.key"]] = _parse(shape.value, params, f"{prefix}.entry.{i}.value")
            i += 1
        return out or None
    raw = params.get(prefix)
    if raw is None:
        return None
    if kind == "boolean":
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        return int(raw)
    if kind in ("float", "double"):
        return float(raw)
    return raw


def _parse_struct(shape: Any, params: dict[str, str], prefix: str) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _parse(member, params, f"{prefix}{name}")
        if value is not None:
            out[name] = value
    return out if (out or prefix == "") else None


def _ts(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return str(value)


def _xml(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        parts = []
        for name, member in shape.members.items():
            if not isinstance(value, dict) or value.get(name) is None:
                continue
            tag = member.serialization.get("name", name)
            parts.append(f"<{tag}>{_xml(member, value[name])}</{tag}>")
        return "".join(parts)
    if kind == "list":
        return "".join(f"<member>{_xml(shape.member, v)}</member>" for v in value)
    if kind == "map":
        return "".join(
            f"<entry><key>{escape(str(k))}</key><value>{_xml(shape.value, v)}</value></entry>"
            for k, v in value.items()
        )
    if kind == "timestamp":
        return _ts(value)
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def xml_response(service: str, operation: str, result: dict[str, Any] | None) -> bytes:
    model = service_model(service)
    op = model.operation_model(operation)
    xmlns = model.metadata.get("xmlNamespace") or f"http://{service}.amazonaws.com/doc/{model.api_version}/"
    inner = ""
    if op.output_shape is not None:
        inner = f"<{operation}Result>{_xml(op.output_shape, result or {})}</{operation}Result>"
    return (
        f'<{operation}Response xmlns="{xmlns}">{inner}'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{operation}Response>"
    ).encode()


def page_token(scope: str, position: int) -> str:
    """An opaque ``NextToken`` for ``position`` in the list named by ``scope`` (e.g. a stack id)."""
    return base64.urlsafe_b64encode(json.dumps([scope, position]).encode()).decode()


def token_position(token: str, scope: str) -> int | None:
    """The position a ``page_token`` of ``scope`` names; None for a token that is not one."""
    try:
        got = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:  # binascii.Error and bad JSON are ValueErrors
        return None
    if not (isinstance(got, list) and len(got) == 2 and got[0] == scope and isinstance(got[1], int)):
        return None
    return int(got[1])
