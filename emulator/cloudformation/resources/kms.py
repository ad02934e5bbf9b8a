"""CloudFormation gaps around a customer-managed KMS key, as AWS behaves (moto 5.2.5 has the types):

- ``AWS::KMS::Key``: moto stored a JSON ``KeyPolicy`` object as-is (GetKeyPolicy must answer a string),
  passed CloudFormation's ``Key``/``Value`` tags where KMS wants ``TagKey``/``TagValue``, ignored
  ``PendingWindowInDays`` and deleted the key at once on stack delete. Here the key policy is stored as
  JSON text, tags are kept, ``PendingWindowInDays`` must be 7..30 (default 30) and a stack delete
  *schedules* the key's deletion (KeyState PendingDeletion), as CloudFormation does.
- ``AWS::Logs::LogGroup``: moto dropped ``KmsKeyId``; here it is kept, and a key that does not exist or
  is not enabled fails the resource with InvalidParameterException (CreateLogGroup's documented error).
- ``AWS::Lambda::Function`` ``KmsKeyArn`` / ``DeadLetterConfig``: see resources/lambda_.py.
"""

from __future__ import annotations

import json
from typing import Any

from moto.kms.models import Key, kms_backends
from moto.logs.models import LogGroup

from emulator.core.exceptions import AwsError

DEFAULT_PENDING_WINDOW_DAYS = 30

_create_key = Key.create_from_cloudformation_json
_delete_key = Key.delete
_create_log_group = LogGroup.create_from_cloudformation_json


def _pending_window(props: dict[str, Any]) -> int:
    days = int(props.get("PendingWindowInDays", DEFAULT_PENDING_WINDOW_DAYS))
    if not 7 <= days <= 30:
        raise AwsError("ValidationException", f"PendingWindowInDays {days} must be between 7 and 30", 400)
    return days


def _create_key_as_aws(
    cls: type[Key],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Key:
    props = dict(cloudformation_json.get("Properties") or {})
    window = _pending_window(props)
    policy = props.get("KeyPolicy")
    if policy is None:
        raise AwsError("ValidationException", "KeyPolicy is required", 400)
    props["KeyPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    props["Tags"] = [{"TagKey": str(t["Key"]), "TagValue": str(t["Value"])} for t in props.get("Tags") or []]
    props["EnableKeyRotation"] = str(props.get("EnableKeyRotation", False)).lower() == "true"
    key = _create_key(resource_name, {**cloudformation_json, "Properties": props}, account_id, region_name)
    key.cfn_pending_window_days = window  # type: ignore[attr-defined]
    return key


def _delete_key_as_cloudformation(self: Key, account_id: str, region_name: str) -> None:
    """A stack's key is scheduled for deletion after its pending window; DeleteKey callers keep moto's."""
    window = getattr(self, "cfn_pending_window_days", None)
    if window is None:
        _delete_key(self, account_id, region_name)
        return
    backend = kms_backends[account_id][region_name]
    if self.id in backend.keys and backend.keys[self.id].key_state != "PendingDeletion":
        backend.schedule_key_deletion(self.id, int(window))


def _create_log_group_with_key(
    cls: type[LogGroup],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LogGroup:
    key_id = (cloudformation_json.get("Properties") or {}).get("KmsKeyId")
    if key_id:
        backend = kms_backends[account_id][region_name]
        try:
            key = backend.keys[backend.any_id_to_key_id(str(key_id))]
        except (KeyError, TypeError, AttributeError) as exc:
            raise AwsError("InvalidParameterException", f"KMS key {key_id} does not exist", 400) from exc
        if not key.enabled or key.key_state != "Enabled":
            raise AwsError("InvalidParameterException", f"KMS key {key_id} is not enabled", 400)
    group = _create_log_group(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    if key_id:
        group.kms_key_id = str(key_id)
    return group


Key.create_from_cloudformation_json = classmethod(_create_key_as_aws)  # type: ignore[assignment]
Key.delete = _delete_key_as_cloudformation  # type: ignore[method-assign]
LogGroup.create_from_cloudformation_json = classmethod(_create_log_group_with_key)  # type: ignore[assignment]
