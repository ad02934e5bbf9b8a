"""CloudFormation types of the local Lambda (emulator/lambda_/): ``AWS::Lambda::Function`` (moto's,
completed), ``AWS::Lambda::Url`` (moto has none) and ``AWS::Lambda::Permission`` (moto's never deleted
its statement).

moto's Function create dropped Architectures, LoggingConfig, Tags and EphemeralStorage, and its update
re-read the code even when unchanged and could not turn an environment off; here the create takes every
property the runtime uses, the role is checked as AWS does (models.check_role), a missing S3 key fails the
resource, and an update applies configuration and code in place (a new ``S3Key`` is new code).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Self

from moto.awslambda.models import LambdaFunction
from moto.core.common_models import CloudFormationModel

from emulator.cloudformation.resources.base import CfnResource
from emulator.lambda_ import models, responses
from emulator.lambda_.exceptions import LambdaError

_CONFIG_KEYS = ("Description", "Handler", "MemorySize", "Role", "Runtime", "Timeout", "Layers")


def _tags(props: dict[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []}


def _code(props: dict[str, Any]) -> dict[str, Any]:
    code = dict(props.get("Code") or {})
    if "ZipFile" in code:  # inline source in a template is the handler module's text, not a zip
        code["ZipFile"] = base64.b64encode(
            LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"])
        )
    return code


def _create_function(
    cls: type[LambdaFunction],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    props = cloudformation_json.get("Properties") or {}
    spec: dict[str, Any] = {
        "FunctionName": str(props.get("FunctionName") or resource_name)[:64],
        "Code": _code(props),
        "Role": props.get("Role"),
    }
    for key in (
        *_CONFIG_KEYS,
        "Environment",
        "ReservedConcurrentExecutions",
        "Architectures",
        "EphemeralStorage",
        "TracingConfig",
        "PackageType",
        "LoggingConfig",
        "VpcConfig",
    ):
        if key in props:
            spec[key] = props[key]
    if props.get("Tags"):
        spec["Tags"] = _tags(props)
    if props.get("KmsKeyArn"):  # the API spells it KMSKeyArn
        spec["KMSKeyArn"] = props["KmsKeyArn"]
    fn = models.backend(account_id, region_name).create_function(spec)
    _set_dead_letter_config(fn, props)
    return fn


def _set_dead_letter_config(fn: LambdaFunction, props: dict[str, Any]) -> None:
    """moto's function has no DeadLetterConfig: kept on the function (async invocations only use it)."""
    fn.dead_letter_config = dict(props.get("DeadLetterConfig") or {})  # type: ignore[attr-defined]


def _update_function(
    cls: type[LambdaFunction],
    original_resource: LambdaFunction,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LambdaFunction:
    props = cloudformation_json.get("Properties") or {}
    fn = original_resource
    models.check_update_runtime(fn, props.get("Runtime"))
    if "Role" in props and props["Role"] != fn.role:
        models.check_role(account_id, region_name, str(props["Role"]))
    variables = (props.get("Environment") or {}).get("Variables") or {}
    models.check_environment(variables)
    fn.update_configuration({k: props[k] for k in _CONFIG_KEYS if k in props})
    fn.environment_vars = dict(variables)
    fn.reserved_concurrency = props.get("ReservedConcurrentExecutions")
    if props.get("Architectures"):
        fn.architectures = list(props["Architectures"])
    fn.tags = _tags(props)
    fn.kms_key_arn = props.get("KmsKeyArn")
    _set_dead_letter_config(fn, props)
    models.set_logging(fn.function_arn, dict(props.get("LoggingConfig") or {}))
    code = _code(props)
    current = {k: fn.code.get(k) for k in ("S3Bucket", "S3Key", "S3ObjectVersion") if fn.code.get(k)}
    wanted = {k: code.get(k) for k in ("S3Bucket", "S3Key", "S3ObjectVersion") if code.get(k)}
    if "ZipFile" in code or current != wanted:
        fn.update_function_code(code)
    return fn


LambdaFunction.create_from_cloudformation_json = classmethod(_create_function)  # type: ignore[assignment]
LambdaFunction.update_from_cloudformation_json = classmethod(_update_function)  # type: ignore[assignment]


class FunctionUrl(CfnResource, CloudFormationModel):
    """``AWS::Lambda::Url``: Ref and ``FunctionArn`` give the function's ARN, ``FunctionUrl`` the local
    URL (``http://127.0.0.1:PORT/_lambda-url/URL_ID/``)."""

    CFN_TYPE = "AWS::Lambda::Url"
    CFN_ATTRS = ("FunctionArn", "FunctionUrl")

    def __init__(self, account_id: str, region: str, function_arn: str, url: str) -> None:
        self.account_id = account_id
        self.region = region
        self.function_arn = function_arn
        self.url = url

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.function_arn if attribute_name == "FunctionArn" else self.url

    @staticmethod
    def _config(props: dict[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in ("AuthType", "Cors", "InvokeMode") if k in props}

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        if props.get("Qualifier"):
            raise LambdaError("InvalidParameterValueException", "the local AWS has no function aliases")
        fn = models.get_function(account_id, region_name, str(props.get("TargetFunctionArn", "")))
        out = responses.create_url(fn, cls._config(props))
        return cls(account_id, region_name, fn.function_arn, str(out["FunctionUrl"]))

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        fn = models.get_function(account_id, region_name, self.function_arn)
        config = self._config(props)
        config.setdefault("Cors", {})
        config.setdefault("InvokeMode", "BUFFERED")
        responses.update_url(fn, config)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        try:
            fn = models.get_function(account_id, region_name, physical_id)
        except LambdaError:
            return  # the function went first: its URL went with it
        if fn.url_config is not None:
            responses.delete_url(fn)

    def delete(self, account_id: str, region_name: str) -> None:
        self.cfn_delete(self.function_arn, {}, account_id, region_name)


_PERMISSION_KEYS = (
    "Action",
    "Principal",
    "SourceArn",
    "SourceAccount",
    "PrincipalOrgID",
    "EventSourceToken",
    "FunctionUrlAuthType",
    "InvokedViaFunctionUrl",
)


class FunctionPermission(CfnResource, CloudFormationModel):
    """``AWS::Lambda::Permission``: one statement of the function's policy; Ref gives its statement id.
    Defined after moto's ``Permission``, so it is the one moto's type map keeps.

    Every property is create-only, so a change replaces it (new statement first, then the old one goes).
    """

    CFN_TYPE = "AWS::Lambda::Permission"

    def __init__(self, account_id: str, region: str, function_name: str, sid: str) -> None:
        self.account_id = account_id
        self.region = region
        self.function_name = function_name
        self.sid = sid

    @property
    def physical_resource_id(self) -> str:
        return self.sid

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        fn = models.get_function(account_id, region_name, str(props.get("FunctionName", "")))
        statement = {k: props[k] for k in _PERMISSION_KEYS if k in props}
        sid = resource_name[-100:]
        statement["StatementId"] = sid
        fn.policy.add_statement(json.dumps(statement))
        return cls(account_id, region_name, fn.function_name, sid)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        try:
            fn = models.get_function(account_id, region_name, str(props.get("FunctionName", "")))
        except LambdaError:
            return
        fn.policy.statements = [s for s in fn.policy.statements if s.get("Sid") != physical_id]

    def delete(self, account_id: str, region_name: str) -> None:
        self.cfn_delete(self.sid, {"FunctionName": self.function_name}, account_id, region_name)
