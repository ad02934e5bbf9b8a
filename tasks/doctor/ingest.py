"""`doit doctor`'s checks of the ingest function: it can read its secret and put to each of the env's streams.

The function's role policies are read (inline and attached, read-only IAM calls) and evaluated with moto's
IAM policy evaluation (`IAMPolicy.is_action_permitted`, the one the local Firehose uses for its role), so
the verdict is the same on AWS and on the local AWS: an explicit Deny wins, no Allow is a denial. The
function's environment must name each signal's stream, as ingest/lambda_handler.py reads it.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context

ENTRY_INGEST = "Ingest function (the stack's IngestFunction: secret and stream access)"
PUT_ACTION = "firehose:PutRecordBatch"  # lake/firehose.py's only Firehose call
SECRET_ACTION = "secretsmanager:GetSecretValue"
STREAM_VAR = "OTLP_STREAM_{}"
SECRET_VAR = "OTLP_TOKEN_SECRET_ARN"


@dataclass(frozen=True)
class Check:
    """One doctor line: what was checked, whether it holds, what was found instead."""

    cause: str
    ok: bool
    found: str = ""
    fix: str = ""  # empty: `doit deploy` repairs it


@dataclass
class FunctionFacts:
    name: str
    role_arn: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)  # JSON policy documents of the role
    missing: bool = False


def _document(raw: Any) -> str:
    """IAM returns policy documents URL-encoded over the wire; boto3 decodes some, not all."""
    if isinstance(raw, dict):
        return json.dumps(raw)
    text = str(raw)
    return text if text.lstrip().startswith("{") else urllib.parse.unquote(text)


def role_policies(iam: Any, role_name: str) -> list[str]:
    """Every policy document the role holds: inline ones and attached managed policies' default versions."""
    docs: list[str] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page.get("PolicyNames", []):
            doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            docs.append(_document(doc))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for att in page.get("AttachedPolicies", []):
            pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"])
            docs.append(_document(ver["PolicyVersion"]["Document"]))
    return docs


def read_facts(ctx: Context, name: str) -> FunctionFacts:
    try:
        conf = ctx.clients.client("lambda").get_function(FunctionName=name)["Configuration"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return FunctionFacts(name, missing=True)
        raise
    role_arn = str(conf.get("Role", ""))
    env = dict((conf.get("Environment") or {}).get("Variables") or {})
    policies = role_policies(ctx.clients.iam, role_arn.rsplit("/", 1)[-1]) if role_arn else []
    return FunctionFacts(name, role_arn, env, policies)


def allowed(policies: list[str], action: str, resource: str) -> bool:
    """IAM's verdict for one action on one resource (explicit Deny wins; no Allow denies)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    verdict = False
    for doc in policies:
        try:
            result = IAMPolicy(doc).is_action_permitted(action, resource)
        except (ValueError, TypeError, KeyError, StopIteration):
            continue  # a document it cannot read allows nothing
        if result == PermissionResult.DENIED:
            return False
        verdict = verdict or result == PermissionResult.PERMITTED
    return verdict


def checks(ctx: Context, facts: FunctionFacts, secret_arn: str | None) -> list[Check]:
    """Pure over the facts: the secret read (token auth) and one put per signal's stream."""
    config = ctx.config
    if facts.missing:
        return [Check(f"function {facts.name} exists", False, "GetFunction: ResourceNotFoundException")]
    out: list[Check] = []
    role = facts.role_arn or "(no role)"
    if secret_arn is not None:
        out.append(
            Check(
                f"function role may {SECRET_ACTION} on its token secret",
                allowed(facts.policies, SECRET_ACTION, secret_arn),
                f"{role} is not allowed {SECRET_ACTION} on {secret_arn}",
            )
        )
        out.append(
            Check(
                f"function environment {SECRET_VAR} names the stack's secret",
                facts.environment.get(SECRET_VAR) == secret_arn,
                f"{SECRET_VAR}={facts.environment.get(SECRET_VAR)!r}, the stack's secret is {secret_arn}",
            )
        )
    for signal in config.signals:
        stream = config.stream_name(signal)
        arn = config.stream_arn(ctx.account_id, signal)
        var = STREAM_VAR.format(signal.upper())
        out.append(
            Check(
                f"function may {PUT_ACTION} to {stream} ({var})",
                facts.environment.get(var) == stream and allowed(facts.policies, PUT_ACTION, arn),
                f"{var}={facts.environment.get(var)!r}"
                + ("" if allowed(facts.policies, PUT_ACTION, arn) else f"; {role} is not allowed on {arn}"),
            )
        )
    return out


def run_checks(ctx: Context) -> Iterator[Check]:
    """The checks for the env's deployed function (nothing when ingest.enabled is false)."""
    if not ctx.config.ingest.function.enabled:
        return
    outputs: dict[str, str] = ctx.facts.stack_outputs
    name = outputs.get("IngestFunctionName")
    if not name:
        yield Check("the stack has an IngestFunctionName output", False, "no ingest function in the stack")
        return
    secret = outputs.get("IngestTokenSecretArn") if ctx.config.ingest.function.auth == "token" else None
    yield from checks(ctx, read_facts(ctx, name), secret)
