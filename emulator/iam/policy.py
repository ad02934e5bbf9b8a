"""IAM policy evaluation, the one place the local AWS decides what a policy allows.

Two kinds of policy are read, as IAM reads them:

- **Identity policies** of a role (its inline and attached managed policies), for the calls a service
  makes with the role (Firehose's delivery, Lambda's logs): ``first_denied`` asks moto's own
  ``moto.iam.access_control.IAMPolicy`` about each ``Need`` (an explicit Deny in any policy wins, else
  some policy must Allow it: IAM's implicit deny). Permissions boundaries and SCPs are not modelled.
- **Resource and trust policies** (a Function URL's resource policy, an SNS topic's policy, a KMS key
  policy, a role's trust policy), whose statements name a principal and may carry conditions: ``allows``
  matches the principal, the action (case-insensitively, with ``*`` and ``?``), the resource and the
  ``Condition`` block (``conditions_hold``) against the context keys the request carries. An explicit Deny
  wins; otherwise some Allow must apply.

``moto_decision`` is moto's evaluation of one document (S3 bucket policies, which moto evaluates itself).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def partition_of(region: str) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(region))


def as_list(value: Any) -> list[Any]:
    """A policy element's value as a list (IAM takes one value or a list of them)."""
    return [value] if isinstance(value, (str, dict)) else list(value) if isinstance(value, list) else []


# -- identity policies: moto's evaluation ----------------------------------------------------------------
@dataclass(frozen=True)
class Need:
    """One call a service makes with a role: the action and the resource it is authorized on."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys the request carries (cloudwatch:namespace)


def role_policies(role: Any) -> list[Any]:
    """The role's inline policy documents and attached managed policies, as moto's IAMPolicy takes them."""
    out: list[Any] = list(getattr(role, "policies", {}).values())
    out += list(getattr(role, "managed_policies", {}).values())
    return out


def first_denied(role: Any, needs: Iterable[Need]) -> Need | None:
    """The first need the role's policies do not allow (explicit Deny, or no Allow), or None."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    policies = []
    for policy in role_policies(role):
        try:
            policies.append(IAMPolicy(policy))
        except (ValueError, TypeError, KeyError, StopIteration):
            continue  # a document moto cannot read allows nothing
    for need in needs:
        allowed = False
        for policy in policies:
            result = policy.is_action_permitted(
                need.action, need.resource, incoming_condition_values=dict(need.context) or None
            )
            if result == PermissionResult.DENIED:
                allowed = False
                break
            allowed = allowed or result == PermissionResult.PERMITTED
        if not allowed:
            return need
    return None


def find_role(account_id: str, role_arn: str) -> Any | None:
    """The IAM role ``role_arn`` names in moto's IAM, or None."""
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account_id]["global"].get_role_by_arn(role_arn)
    except Exception:
        return None


def moto_decision(document: str, action: str, resource: str) -> Any:
    """moto's ``PermissionResult`` for one policy document (JSON text)."""
    from moto.iam.access_control import IAMPolicy

    return IAMPolicy(document).is_action_permitted(action, resource)


# -- resource and trust policies -----------------------------------------------------------------------
def _matches(op: str, actual: str, wanted: str) -> bool:
    if op in ("StringEquals", "ArnEquals"):
        return actual == wanted
    if op == "StringEqualsIgnoreCase":
        return actual.lower() == wanted.lower()
    if op in ("StringLike", "ArnLike"):
        return fnmatch.fnmatchcase(actual, wanted)
    if op == "Bool":
        return actual.lower() == wanted.lower()
    raise KeyError(op)


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def conditions_hold(condition: Any, context: Mapping[str, str]) -> bool:
    """IAM's reading of a statement's ``Condition`` block for a request with these context keys (names
    compared case-insensitively): every operator and key must hold; a key absent from the context fails
    (``...IfExists`` passes, a negated operator passes); ``Null`` tests presence. An operator this does not
    know never holds (strict)."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    lowered = {k.lower(): v for k, v in context.items()}
    for raw_op, pairs in condition.items():
        if not isinstance(pairs, dict):
            return False
        if_exists = raw_op.endswith("IfExists")
        op = raw_op[: -len("IfExists")] if if_exists else raw_op
        for key, wanted in pairs.items():
            values = [str(v) for v in as_list(wanted)]
            actual = lowered.get(str(key).lower())
            if op == "Null":
                if (actual is None) != (values[0].lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists or op in _NEGATED:
                    continue
                return False
            try:
                if op in _NEGATED:
                    if any(_matches(_NEGATED[op], actual, v) for v in values):
                        return False
                elif not any(_matches(op, actual, v) for v in values):
                    return False
            except KeyError:
                return False
    return True


def names_principal(principal: Any, *, service: str | None = None, any_aws: bool = False) -> bool:
    """Whether a statement's ``Principal`` covers the caller: ``"*"`` always; ``{"Service": service}`` for a
    service principal; ``{"AWS": "*"}`` (anyone with AWS credentials) when ``any_aws``."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    lowered = {str(k).lower(): v for k, v in principal.items()}
    if service is not None and service in as_list(lowered.get("service", [])):
        return True
    return any_aws and "*" in as_list(lowered.get("aws", []))


def action_matches(patterns: Any, action: str) -> bool:
    """IAM compares actions case-insensitively, with ``*`` and ``?`` wildcards."""
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in as_list(patterns))


def statements(document: Any) -> list[Any]:
    """A policy's statements, from JSON text, a mapping or a list of statements (unreadable: none)."""
    if isinstance(document, list):
        return document
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return []
    return as_list(doc.get("Statement", [])) if isinstance(doc, dict) else []


def allows(
    document: Any,
    action: str,
    resources: Iterable[str] = ("*",),
    *,
    principal: Callable[[Any], bool],
    context: Mapping[str, str] | None,
) -> bool:
    """Whether a resource or trust policy lets the caller ``principal`` accepts do ``action`` on one of
    ``resources``: an Allow statement applies and no Deny does. A statement without ``Resource`` covers
    the resource it is attached to. With ``context=None`` (a check AWS makes without a request, such as
    Lambda's CreateFunction reading a trust policy) conditions are not read: an Allow with conditions
    applies, a Deny with conditions does not."""
    wanted = list(resources)
    allowed = False
    for st in statements(document):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            continue
        if not principal(st.get("Principal")) or not action_matches(st.get("Action", []), action):
            continue
        if "Resource" in st and not any(
            fnmatch.fnmatchcase(res, str(r)) for r in as_list(st["Resource"]) for res in wanted
        ):
            continue
        if context is None:
            applies = st["Effect"] == "Allow" or not st.get("Condition")
        else:
            applies = conditions_hold(st.get("Condition"), context)
        if not applies:
            continue
        if st["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def trusts_service(document: Any, service: str, context: Mapping[str, str] | None = None) -> bool:
    """True when the trust policy (JSON text or mapping) lets ``service`` (e.g. ``"firehose.amazonaws.com"``)
    ``sts:AssumeRole``: an Allow statement naming the service, or ``*``, as its principal, whose conditions
    hold for ``context`` (the keys the service sends, e.g. ``sts:ExternalId``), and no Deny statement that
    applies. Without a context conditions are not read. An unreadable document trusts nobody."""
    return allows(
        document,
        "sts:AssumeRole",
        principal=lambda p: names_principal(p, service=service),
        context=context,
    )
