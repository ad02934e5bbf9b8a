"""IAM resources in a stack: moto's in-place update of ``AWS::IAM::Role`` changes too little."""

from __future__ import annotations

import json
from typing import Any


def post_update(rtype: str, inst: Any, props: Any, account_id: str, region: str) -> None:
    """Fill gaps in moto's in-place updates (IAM role: trust policy, inline policies, tags)."""
    if rtype != "AWS::IAM::Role" or not isinstance(props, dict):
        return
    doc = props.get("AssumeRolePolicyDocument")
    if doc is not None:
        inst.assume_role_policy_document = doc if isinstance(doc, str) else json.dumps(doc)
    wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or []}
    for name in list(getattr(inst, "policies", {})):
        if name not in wanted:
            inst.delete_policy(name)
    for name, document in wanted.items():
        inst.put_policy(name, document if isinstance(document, str) else json.dumps(document))
    if "Tags" in props:
        inst.tags = {t["Key"]: {"Key": t["Key"], "Value": t["Value"]} for t in props["Tags"] or []}
    if "Description" in props:
        inst.description = props["Description"]
