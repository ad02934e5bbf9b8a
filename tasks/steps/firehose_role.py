"""The stack's Firehose role keeps the inline policy the template gives it (IAM drift outside CloudFormation).

Firehose evaluates this role's IAM policies at every delivery: a statement removed out of band (console,
another tool) makes every delivery fail, and CloudFormation neither notices nor repairs it, since its
template did not change. So the live policy (one iam:GetRolePolicy) is compared with the template's, its
intrinsics resolved from the stack's outputs; a difference is written back with PutRolePolicy, the same
document CloudFormation wrote, so the stack stays in sync with its template.

The same reading serves any stack role whose one inline policy the tool keeps (`RoleSpec`): the retention
function's role is tasks/steps/retention_role.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome, normalize

NAME = "firehose_role"
ROLE_LOGICAL_ID = "FirehoseRole"
_SUB = re.compile(r"\$\{([^}!]+)\}")


@dataclass(frozen=True)
class RoleSpec:
    """A stack role whose inline policy is kept: its logical id, the output naming it, the outputs that
    resolve its policy's GetAtt / Sub names (`Logical.Attribute` -> output key), and why it matters."""

    logical_id: str
    name_output: str
    attributes: tuple[tuple[str, str], ...]
    needed_by: str  # "Firehose deliveries fail without it"
    label: str  # the status item when the stack has not made the role yet


FIREHOSE = RoleSpec(
    ROLE_LOGICAL_ID,
    "FirehoseRoleName",
    (("TableBucket.TableBucketARN", "TableBucketArn"), ("ErrorBucket.Arn", "ErrorBucketArn")),
    "Firehose deliveries fail without it",
    "firehose role",
)


@dataclass(frozen=True)
class Desired:
    role_name: str | None  # None until the stack exists (the stack creates the role and its policy)
    policy_name: str
    policy: dict[str, Any] | None
    pending: bool = False  # the stack's update is to change the role: compared after that update


@dataclass(frozen=True)
class Observed:
    role_name: str | None
    role_exists: bool = False
    policy: dict[str, Any] | None = None


def _template_policy(ctx: Context, spec: RoleSpec) -> tuple[str, Any]:
    from tasks import template

    role = template.parsed(ctx.config)["Resources"][spec.logical_id]["Properties"]
    (policy,) = role["Policies"]
    return str(policy["PolicyName"]), policy["PolicyDocument"]


def _attributes(ctx: Context, outputs: dict[str, str], spec: RoleSpec) -> dict[str, str]:
    """`Logical.Attribute` (GetAtt, ${...} in Sub) -> value, from the stack outputs and pseudo parameters."""
    c = ctx.config
    values = {"AWS::Partition": c.partition, "AWS::Region": c.region, "AWS::AccountId": ctx.account_id}
    values.update({name: outputs.get(output, "") for name, output in spec.attributes})
    return values


def resolve(value: Any, values: dict[str, str]) -> Any:
    """The template's Ref / Fn::Sub / Fn::GetAtt, as CloudFormation resolves them (`values`: a logical id or
    pseudo parameter for Ref, `Logical.Attribute` for GetAtt); KeyError for an unknown name."""
    if isinstance(value, list):
        return [resolve(v, values) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return values[value["Ref"]]
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return _SUB.sub(lambda m: values[m.group(1)], value["Fn::Sub"])
    if set(value) == {"Fn::GetAtt"}:
        logical, attribute = value["Fn::GetAtt"]
        return values[f"{logical}.{attribute}"]
    return {k: resolve(v, values) for k, v in value.items()}


def desired(ctx: Context, spec: RoleSpec = FIREHOSE) -> Desired:
    outputs = ctx.facts.stack_outputs
    from tasks.steps import stack

    policy_name, document = _template_policy(ctx, spec)
    role_name = outputs.get(spec.name_output)
    if not role_name:
        return Desired(None, policy_name, None)
    if stack.pending(ctx, spec.logical_id):
        return Desired(role_name, policy_name, None, pending=True)
    values = _attributes(ctx, outputs, spec)
    if any(not v for v in values.values()):
        return Desired(None, policy_name, None)  # the stack's outputs are not those of this config yet
    return Desired(role_name, policy_name, resolve(document, values))


def _doc(value: Any) -> dict[str, Any]:
    """botocore decodes IAM policy documents to dicts; a raw (URL-encoded) string is decoded here."""
    if isinstance(value, dict):
        return value
    from urllib.parse import unquote

    return dict(json.loads(unquote(str(value))))


def observe(ctx: Context, spec: RoleSpec = FIREHOSE) -> Observed:
    want = desired(ctx, spec)
    if want.role_name is None:
        return Observed(None)
    if want.pending:  # nothing to compare before the stack's update: no read
        return Observed(want.role_name, True)
    if ctx.facts.stack_created:
        # CloudFormation created the role with this very document in this run: no read needed.
        return Observed(want.role_name, True, want.policy)
    try:
        doc = ctx.clients.iam.get_role_policy(RoleName=want.role_name, PolicyName=want.policy_name)
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return Observed(want.role_name, _role_exists(ctx, want.role_name), None)
    return Observed(want.role_name, True, _doc(doc["PolicyDocument"]))


def _role_exists(ctx: Context, name: str) -> bool:
    try:
        ctx.clients.iam.get_role(RoleName=name)
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return False
        raise
    return True


def _sids(policy: dict[str, Any] | None) -> dict[str, Any]:
    statements = (policy or {}).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return {str(st.get("Sid", i)): st for i, st in enumerate(statements)}


def missing_statements(want: dict[str, Any], have: dict[str, Any] | None) -> list[str]:
    """Sids of the template's statements that the live policy lacks or holds differently."""
    held = _sids(have)
    return [sid for sid, st in _sids(want).items() if normalize(held.get(sid)) != normalize(st)]


def diff(want: Desired, have: Observed, spec: RoleSpec = FIREHOSE) -> Diff[Desired, Observed]:
    res = f"iam role {want.role_name}"
    if want.pending:
        return Diff(notes=[f"{res}: the stack's update is to change its policy; deploy compares it after"])
    if want.role_name is None or want.policy is None:
        return Diff(
            [Change("create", f"iam role policy {want.policy_name}", reason="created with the stack")]
        )
    if not have.role_exists:
        return Diff(notes=[f"{res} does not exist: the stack step re-creates the stack's resources"])
    if have.policy is not None and normalize(have.policy) == normalize(want.policy):
        return Diff()
    lacking = missing_statements(want.policy, have.policy)
    why = (
        "inline policy missing"
        if have.policy is None
        else f"statement(s) {', '.join(lacking)} differ from the template"
        if lacking
        else "differs from the template"
    )
    return Diff(
        [
            Change(
                "update",
                res,
                {f"policy {want.policy_name}": (have.policy, want.policy)},
                reason=f"{why}, changed outside CloudFormation; {spec.needed_by}",
            )
        ]
    )


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    if want.role_name is None or want.policy is None:
        return Outcome("unchanged", ["the stack creates the role and its policy"])
    ctx.clients.iam.put_role_policy(
        RoleName=want.role_name, PolicyName=want.policy_name, PolicyDocument=json.dumps(want.policy)
    )
    return Outcome(
        "updated", [f"{want.role_name}: inline policy {want.policy_name} restored from the template"]
    )


def report(have: Observed, spec: RoleSpec = FIREHOSE) -> list[tuple[str, str]]:
    if have.role_name is None:
        return [(spec.label, "not created yet (the stack creates it)")]
    if not have.role_exists:
        return [(f"role {have.role_name}", "missing")]
    state = "present" if have.policy is not None else "missing"
    return [(f"role {have.role_name}", f"inline policy {state}")]
