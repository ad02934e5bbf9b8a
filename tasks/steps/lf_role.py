"""Account setup: the IAM role Lake Formation assumes to vend S3 Tables credentials.

Trust (the three STS actions) and the inline policy come from tasks.template.lf_role_documents; the
comparison is on parsed, normalized documents, so formatting or ordering never causes an update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.config import Config
from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome, normalize

ROLE_NAME = "S3TablesRoleForLakeFormation"
POLICY_NAME = "S3TablesDataAccess"
NAME = "lf_role"


@dataclass(frozen=True)
class Desired:
    role_name: str
    trust: dict[str, Any]
    policy: dict[str, Any]


@dataclass(frozen=True)
class Observed:
    exists: bool
    arn: str | None = None
    trust: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None


def role_arn(config: Config, account_id: str) -> str:
    return config.role_arn(account_id, ROLE_NAME)


def desired(ctx: Context) -> Desired:
    from tasks.template import lf_role_documents

    trust, policy = lf_role_documents(ctx.config, ctx.account_id)
    return Desired(ROLE_NAME, trust, policy)


def _doc(value: Any) -> dict[str, Any]:
    """botocore decodes IAM policy documents to dicts; a raw (URL-encoded) string is decoded here."""
    if isinstance(value, dict):
        return value
    import json
    from urllib.parse import unquote

    return dict(json.loads(unquote(str(value))))


def observe(ctx: Context) -> Observed:
    iam = ctx.clients.iam
    try:
        role = iam.get_role(RoleName=ROLE_NAME)["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return Observed(exists=False)
        raise
    try:
        policy: dict[str, Any] | None = _doc(
            iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=POLICY_NAME)["PolicyDocument"]
        )
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        policy = None
    return Observed(True, role["Arn"], _doc(role["AssumeRolePolicyDocument"]), policy)


def diff(want: Desired, have: Observed) -> Diff:
    res = f"iam role {want.role_name}"
    if not have.exists:
        return Diff([Change("create", res, {"trust": (None, want.trust), "policy": (None, want.policy)})])
    fields: dict[str, tuple[Any, Any]] = {}
    if normalize(have.trust) != normalize(want.trust):
        fields["trust"] = (have.trust, want.trust)
    if have.policy is None or normalize(have.policy) != normalize(want.policy):
        fields[f"policy {POLICY_NAME}"] = (have.policy, want.policy)
    return Diff([Change("update", res, fields)] if fields else [])


def apply(ctx: Context, d: Diff) -> Outcome:
    import json

    want: Desired = d.desired
    iam = ctx.clients.iam
    created = False
    for change in d.changes:
        if change.action == "create":
            iam.create_role(
                RoleName=ROLE_NAME,
                AssumeRolePolicyDocument=json.dumps(want.trust),
                Description="Lake Formation access to S3 Tables (account-level, shared by every env)",
            )
            created = True
        elif "trust" in change.fields:
            iam.update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=json.dumps(want.trust))
        if created or f"policy {POLICY_NAME}" in change.fields:
            iam.put_role_policy(
                RoleName=ROLE_NAME, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(want.policy)
            )
    return Outcome("created" if created else "updated", data={"lf_role_created": created})


def region_scoped(policy: dict[str, Any] | None) -> list[str]:
    """Regions the policy's s3tables resources name: IAM is global, so any single region is too narrow."""
    regions: set[str] = set()
    for st in (policy or {}).get("Statement", []):
        resources = st.get("Resource", [])
        for res in [resources] if isinstance(resources, str) else resources:
            parts = str(res).split(":")
            if len(parts) > 4 and parts[2] == "s3tables" and parts[3] != "*":
                regions.add(parts[3])
    return sorted(regions)


def region_hint(policy: dict[str, Any] | None) -> str:
    """Doctor's and verify's words for a policy scoped to some regions only."""
    regions = region_scoped(policy)
    if not regions:
        return ""
    return (
        f"the policy covers only {', '.join(regions)}: IAM is global, {ROLE_NAME} serves every region of "
        "the account, so envs in other regions fail; deploy scopes it to all regions (s3tables:*:ACCOUNT)"
    )


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.exists:
        return [(f"role {ROLE_NAME}", "missing")]
    return [
        (
            f"role {ROLE_NAME}",
            f"{have.arn}; inline policy {POLICY_NAME}: {'present' if have.policy else 'missing'}",
        )
    ]
