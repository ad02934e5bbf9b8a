"""IAM: trust policies may use `sts:SetContext` (aws-facts.md: Lake Formation needs it for S3 Tables).

moto 5.2.5 accepts it in CreateRole but refuses it in UpdateAssumeRolePolicy (MalformedPolicyDocument),
so repairing a trust policy that lost it would fail locally while it works on AWS. Extend moto's list of
allowed trust-policy actions with the STS actions AWS accepts there.

Also: moto's CloudFormation ``AWS::IAM::Role`` stores an inline policy given as a mapping as that Python
object, so GetRolePolicy answers its ``repr`` (not JSON) and no policy evaluation can read it. AWS stores a
policy document as JSON: ``Role.put_policy`` serialises a mapping to JSON here.

Whether a service may assume a role (its trust policy read for what the service sends) is policy.py's
``trusts_service``.
"""

from __future__ import annotations

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
