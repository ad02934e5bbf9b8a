"""IAM: trust policies may use `sts:SetContext` (aws-facts.md: Lake Formation needs it for S3 Tables), and a
service assumes a role only when the trust policy's conditions hold for what the service sends.

moto 5.2.5 accepts it in CreateRole but refuses it in UpdateAssumeRolePolicy (MalformedPolicyDocument),
so repairing a trust policy that lost it would fail locally while it works on AWS. Extend moto's list of
allowed trust-policy actions with the STS actions AWS accepts there.

Also: moto's CloudFormation ``AWS::IAM::Role`` stores an inline policy given as a mapping as that Python
object, so GetRolePolicy answers its ``repr`` (not JSON) and no policy evaluation can read it. AWS stores a
policy document as JSON: ``Role.put_policy`` serialises a mapping to JSON here.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.iam.models import Role
from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

_EXTRA = frozenset({"sts:SetContext", "sts:TagSession", "sts:SetSourceIdentity"})
_original = IAMTrustPolicyDocumentValidator._validate_trust_policy_action


def _validate_trust_policy_action(action: str) -> None:
    if action in _EXTRA:
        return
    _original(action)


IAMTrustPolicyDocumentValidator._validate_trust_policy_action = staticmethod(  # type: ignore[method-assign]
    _validate_trust_policy_action
)


_original_put_policy = Role.put_policy


def _put_policy(self: Role, policy_name: str, policy_json: Any) -> None:
    if not isinstance(policy_json, str):
        policy_json = json.dumps(policy_json)
    _original_put_policy(self, policy_name, policy_json)


Role.put_policy = _put_policy  # type: ignore[method-assign]


_ASSUME_ACTIONS = ("sts:AssumeRole", "sts:*", "*")


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, (str, dict)) else list(value) if isinstance(value, list) else []


# -- conditions: the operators a trust policy uses, as IAM evaluates them --------------------------------
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


def conditions_hold(condition: Any, context: dict[str, str]) -> bool:
    """IAM's reading of a statement's ``Condition`` block for a request with these context keys: every
    operator and key must hold; a key absent from the context fails (``...IfExists`` passes, a negated
    operator passes); ``Null`` tests presence. An operator this does not know never holds (strict)."""
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
            values = [str(v) for v in _as_list(wanted)]
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


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return service in _as_list(services)


def trusts_service(document: Any, service: str, context: dict[str, str] | None = None) -> bool:
    """True when the trust policy (JSON text or mapping) lets ``service`` (e.g. ``"firehose.amazonaws.com"``)
    ``sts:AssumeRole``: an Allow statement naming the service, or ``*``, as its principal, whose conditions
    hold for ``context`` (the keys the service sends, e.g. ``sts:ExternalId``), and no Deny statement that
    applies. Without a context conditions are not read (a check that AWS makes without one, such as
    Lambda's CreateFunction). An unreadable document trusts nobody."""
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    allowed = False
    for st in _as_list(statements):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            continue
        if not any(a in _ASSUME_ACTIONS for a in _as_list(st.get("Action", []))):
            continue
        if not _names_service(st.get("Principal", {}), service):
            continue
        applies = context is None or conditions_hold(st.get("Condition"), context)
        if st["Effect"] == "Deny" and applies and context is not None:
            return False
        if st["Effect"] == "Allow" and applies:
            allowed = True
    return allowed
