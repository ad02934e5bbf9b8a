"""S3: bucket policies that deny `aws:SecureTransport = false` must not deny everything locally.

moto 5.2.5 evaluates bucket policies on GetObject but ignores Conditions, so the error bucket's standard
"DenyInsecureTransport" statement denies every read (403), although on AWS it only refuses plain-HTTP
requests. The emulator stands in for AWS's HTTPS endpoints: such statements are dropped before moto
evaluates the policy; every other statement is evaluated as moto does.
"""

from __future__ import annotations

import json
from typing import Any

from moto.s3.models import FakeBucket

from emulator.iam import policy

_original = FakeBucket.get_permission


def _insecure_transport_only(statement: dict[str, Any]) -> bool:
    cond = statement.get("Condition") or {}
    return (
        statement.get("Effect") == "Deny"
        and list(cond) == ["Bool"]
        and {k.lower(): str(v).lower() for k, v in cond["Bool"].items()} == {"aws:securetransport": "false"}
    )


def _get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return _original(self, action, resource)
    try:
        doc = json.loads(self.policy.decode())
    except ValueError:
        return _original(self, action, resource)
    statements = doc.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for s in statements if not _insecure_transport_only(s)]
    if len(kept) == len(statements):
        return _original(self, action, resource)
    from moto.iam.access_control import PermissionResult

    if not kept:
        return PermissionResult.NEUTRAL
    return policy.moto_decision(json.dumps({**doc, "Statement": kept}), action, resource)


FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
