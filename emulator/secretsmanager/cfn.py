"""``AWS::SecretsManager::Secret`` in our CloudFormation engine, with ``GenerateSecretString``.

moto 5.2.5 has no CloudFormation type for secrets. Ref (and GetAtt ``Id``) give the secret's ARN. The
generated value follows GetRandomPassword's rules: ``PasswordLength`` (default 32, 1..4096), the
``Exclude*`` switches, ``ExcludeCharacters``, ``IncludeSpace`` and ``RequireEachIncludedType`` (default
true); with ``SecretStringTemplate`` + ``GenerateStringKey`` the value is that JSON object with the key
added. A stack delete removes the secret without a recovery window, so its name can be used again.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from emulator.cfn_model import CfnResource
from emulator.overrides import AwsError

PUNCTUATION = string.punctuation  # ! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def generate_password(spec: dict[str, Any]) -> str:
    """A random password as GetRandomPassword makes it, from ``GenerateSecretString``'s switches."""
    length = int(spec.get("PasswordLength", 32))
    if not 1 <= length <= 4096:
        raise _invalid(f"PasswordLength {length} is out of range: it must be between 1 and 4096.")
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    classes = []
    for switch, chars in (
        ("ExcludeLowercase", string.ascii_lowercase),
        ("ExcludeUppercase", string.ascii_uppercase),
        ("ExcludeNumbers", string.digits),
        ("ExcludePunctuation", PUNCTUATION),
    ):
        if not _flag(spec.get(switch)):
            allowed = "".join(c for c in chars if c not in excluded)
            if allowed:
                classes.append(allowed)
    if _flag(spec.get("IncludeSpace")) and " " not in excluded:
        classes.append(" ")
    if not classes:
        raise _invalid("The password cannot be generated: every character is excluded.")
    pool = "".join(classes)
    require_each = _flag(spec.get("RequireEachIncludedType", True))
    if require_each and length < len(classes):
        raise _invalid("Password length is too short based on the required types.")
    while True:
        password = "".join(secrets.choice(pool) for _ in range(length))
        if not require_each or all(any(c in cls for c in password) for cls in classes):
            return password


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def secret_value(props: dict[str, Any]) -> str | None:
    """The value the template asks for: ``SecretString``, a generated one, or None (no value)."""
    generate = props.get("GenerateSecretString")
    if generate is not None and props.get("SecretString") is not None:
        raise _invalid("You can't specify both SecretString and GenerateSecretString.")
    if generate is None:
        value = props.get("SecretString")
        return None if value is None else str(value)
    template, key = generate.get("SecretStringTemplate"), generate.get("GenerateStringKey")
    if (template is None) != (key is None):
        raise _invalid("SecretStringTemplate and GenerateStringKey must be specified together.")
    password = generate_password(generate)
    if template is None:
        return password
    try:
        document = json.loads(str(template))
    except ValueError as exc:
        raise _invalid("SecretStringTemplate must be a JSON object.") from exc
    if not isinstance(document, dict):
        raise _invalid("SecretStringTemplate must be a JSON object.")
    document[str(key)] = password
    return json.dumps(document)


class Secret(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::SecretsManager::Secret"
    CFN_NAME_TYPE = "Name"
    CFN_ATTRS = ("Id",)

    def __init__(self, account_id: str, region: str, arn: str) -> None:
        self.account_id = account_id
        self.region = region
        self.arn = arn
        self._props: dict[str, Any] = {}  # as last applied: a value is regenerated only when asked

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        backend = secretsmanager_backends[account_id][region_name]
        name = str(props.get("Name") or resource_name)
        created = backend.create_secret(
            name=name,
            secret_string=secret_value(props),
            secret_binary=None,
            description=props.get("Description"),
            tags=props.get("Tags") or [],
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=props.get("ReplicaRegions") or [],
            force_overwrite=False,
        )
        arn = json.loads(created)["ARN"] if isinstance(created, str) else backend.secrets[name].arn
        made = cls(account_id, region_name, str(arn))
        made._props = dict(props)
        return made

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        """In place: description, key, tags; a new SecretString or GenerateSecretString is a new value."""
        backend = secretsmanager_backends[account_id][region_name]
        if self.arn not in backend.secrets:  # the store resolves names and ARNs (no dict.get)
            raise AwsError("ResourceNotFoundException", f"Secrets Manager can't find the secret {self.arn}.")
        secret = backend.secrets[self.arn]
        value_changed = any(
            self._props.get(k) != props.get(k) for k in ("SecretString", "GenerateSecretString")
        )
        backend.update_secret(
            self.arn,
            secret_string=secret_value(props) if value_changed else None,
            description=props.get("Description"),
            kms_key_id=props.get("KmsKeyId"),
        )
        wanted = {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []}
        stale = [t["Key"] for t in secret.tags or [] if t["Key"] not in wanted]
        if stale:
            backend.untag_resource(self.arn, stale)
        if wanted:
            backend.tag_resource(self.arn, wanted)
        self._props = dict(props)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        if physical_id in backend.secrets:
            backend.delete_secret(physical_id, None, True)

    def delete(self, account_id: str, region_name: str) -> None:
        self.cfn_delete(self.arn, {}, account_id, region_name)
