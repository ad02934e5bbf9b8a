"""IAM: trust policies may use `sts:SetContext` (aws-facts.md: Lake Formation needs it for S3 Tables).

moto 5.2.5 accepts it in CreateRole but refuses it in UpdateAssumeRolePolicy (MalformedPolicyDocument),
so repairing a trust policy that lost it would fail locally while it works on AWS. Extend moto's list of
allowed trust-policy actions with the STS actions AWS accepts there.
"""

from __future__ import annotations

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
