"""``AWS::IAM::ManagedPolicy``: moto creates one, but updates and deletes nothing, so a stack's delete (or a
failed create's rollback) left the policy behind and the next create of the same name failed.

- Update in place (``ManagedPolicyName``, ``Path`` and ``Description`` are create-only: the engine
  replaces): a changed ``PolicyDocument`` becomes a new default version, the oldest other version deleted
  first at IAM's limit of 5; the ``Roles``, ``Users`` and ``Groups`` it names are attached (one the
  template stops naming stays attached here).
- Delete: the template's own attachments are detached, then the policy goes with its versions, unless it
  is still attached to an entity the template does not name: then the delete fails, as IAM's DeletePolicy
  does ("Cannot delete a policy attached to entities.", ``DeleteConflict``). Whether CloudFormation detaches
  such entities itself is not documented; failing is the side that changes nobody's role
  (docs/not-yet-confirmed.md). `doit destroy` detaches the readers' policy first
  (tasks/steps/readers_teardown.py).
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import ManagedPolicy, iam_backends
from moto.utilities.utils import get_partition

MAX_VERSIONS = 5  # IAM's limit of versions per managed policy


def _iam(account_id: str, region_name: str) -> Any:
    return iam_backends[account_id][get_partition(region_name)]


def _document(props: dict[str, Any]) -> str:
    doc = props.get("PolicyDocument")
    return doc if isinstance(doc, str) else json.dumps(doc)


def attached_to(iam: Any, arn: str) -> dict[str, list[str]]:
    """The roles, users and groups the policy is attached to, by name."""
    return {
        "Roles": sorted(r.name for r in iam.roles.values() if arn in r.managed_policies),
        "Users": sorted(u.name for u in iam.users.values() if arn in u.managed_policies),
        "Groups": sorted(g.name for g in iam.groups.values() if arn in g.managed_policies),
    }


_ENTITY = {"Roles": "role", "Users": "user", "Groups": "group"}


def _attach(iam: Any, kind: str, name: str, arn: str, *, attach: bool) -> None:
    """moto's attach_role_policy / detach_user_policy / ... (policy ARN, entity name)."""
    getattr(iam, f"{'attach' if attach else 'detach'}_{_ENTITY[kind]}_policy")(arn, name)


def _update(
    cls: type[ManagedPolicy],
    original_resource: ManagedPolicy,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> ManagedPolicy:
    props = cloudformation_json.get("Properties", {})
    iam = _iam(account_id, region_name)
    policy = original_resource
    document = _document(props)
    current = next((v for v in policy.versions if v.version_id == policy.default_version_id), None)
    if current is None or json.loads(current.document) != json.loads(document):
        if len(policy.versions) >= MAX_VERSIONS:
            oldest = next(v for v in policy.versions if v.version_id != policy.default_version_id)
            iam.delete_policy_version(policy.arn, oldest.version_id)
        iam.create_policy_version(policy.arn, document, set_as_default=True)
    for kind in ("Roles", "Users", "Groups"):
        have, want = set(attached_to(iam, policy.arn)[kind]), set(props.get(kind) or [])
        for name in sorted(want - have):
            _attach(iam, kind, name, policy.arn, attach=True)
    return policy


def _delete(
    cls: type[ManagedPolicy],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    from emulator.core.exceptions import AwsError

    props = cloudformation_json.get("Properties", {})
    iam = _iam(account_id, region_name)
    arn = resource_name
    if arn not in iam.managed_policies:
        return
    for kind, names in attached_to(iam, arn).items():
        for name in sorted(set(names) & set(props.get(kind) or [])):
            _attach(iam, kind, name, arn, attach=False)
    if any(attached_to(iam, arn).values()):
        raise AwsError("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    iam.delete_policy(arn)


ManagedPolicy.update_from_cloudformation_json = classmethod(_update)  # type: ignore[assignment]
ManagedPolicy.delete_from_cloudformation_json = classmethod(_delete)  # type: ignore[assignment]
