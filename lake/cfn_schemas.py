"""The CloudFormation resource schemas cfn-lint ships, read through cfn-lint's own loader, once per type,
and what a template value refers to.

What AWS replaces on a stack update comes from a type's `createOnlyProperties` (JSON pointers such as
`/properties/IcebergMetadata` or `/properties/Tags/*/Key`): `doit plan` says "replace" from them, and the
local AWS's CloudFormation engine replaces from them. cfn-lint is imported on first use only (it costs
~0.3 s), so a run whose stack template is unchanged never loads it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

DEFAULT_REGION = "us-east-1"  # cfn-lint's own fallback for a region it has no provider file for
# Properties that place a resource inside another (its table bucket, namespace, log group, bucket): a
# replaced resource whose container changes gets a new name space, so keeping its name clashes with nothing.
CONTAINERS = ("TableBucketARN", "Namespace", "LogGroupName", "Bucket")


@functools.cache
def _regions() -> frozenset[str]:
    from cfnlint.helpers import REGIONS

    return frozenset(REGIONS)


@functools.cache
def resource_schema(resource_type: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """The type's provider schema as a dict; {} for a type cfn-lint does not know."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    where = region if region in _regions() else DEFAULT_REGION
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(where, resource_type).schema
    except ResourceNotFoundError:
        return {}
    return schema if isinstance(schema, dict) else {}


def known_type(resource_type: str, region: str = DEFAULT_REGION) -> bool:
    return bool(resource_schema(resource_type, region))


@functools.cache
def create_only(resource_type: str, region: str = DEFAULT_REGION) -> tuple[tuple[str, ...], ...]:
    """The type's create-only properties as paths under Properties: ("IcebergMetadata",),
    ("Tags", "*", "Key"), ... (`*` stands for any list index)."""
    out = []
    for pointer in resource_schema(resource_type, region).get("createOnlyProperties", []):
        parts = str(pointer).split("/")
        if len(parts) >= 3 and parts[0] == "" and parts[1] == "properties":
            out.append(tuple(parts[2:]))
    return tuple(out)


def refs(value: Any) -> set[str]:
    """Logical ids and parameters a value refers to (Ref, Fn::GetAtt, ${X} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, v in value.items():
            if key == "Ref" and isinstance(v, str):
                found.add(v)
            elif key == "Fn::GetAtt":
                target = v[0] if isinstance(v, list) and v else str(v).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = v[0] if isinstance(v, list) and v else v
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", str(text))}
                if isinstance(v, list) and len(v) > 1:
                    found |= refs(v[1])
            else:
                found |= refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs(v)
    return found
