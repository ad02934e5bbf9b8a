"""Our Lambda operations (registered in emulator.core.registry): Invoke runs the zip (runtime.py), and
the Function URL configuration operations as AWS answers them (moto's 201 on Get, no conflict on a second
Create, no 404s, no trailing ``/`` and a URL that nothing serves). The rest of Lambda is moto's.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import uuid
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaFunction
from moto.awslambda.policy import Policy

from emulator.core import clock
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.lambda_ import metrics as lambda_metrics
from emulator.lambda_ import models, runtime
from emulator.lambda_.exceptions import LambdaError
from lake import lambda_facts

SERVICE = "lambda"
SYNC_REQUEST_LIMIT = lambda_facts.SYNC_PAYLOAD_LIMIT  # 6,291,456 bytes (RequestResponse)
ASYNC_REQUEST_LIMIT = 1024 * 1024  # 1 MB (Event), since October 2025
RESPONSE_LIMIT = 6291556  # bytes, as AWS's error message names it


def _name(req: OverrideRequest) -> str:
    return unquote(str(req.body.get("FunctionName", "")))


def _qualifier(req: OverrideRequest) -> str | None:
    values = req.query.get("Qualifier")
    return values[-1] if values else None


def _json(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> OverrideResponse:
    resp = json_response(data, status=status, content_type="application/json")
    resp.headers.update(headers or {})
    return resp


# -- Invoke ----------------------------------------------------------------------------------------
def run(fn: LambdaFunction, payload: bytes, request_id: str | None = None) -> runtime.Outcome:
    """One synchronous invocation through the worker pool, with AWS's response size limit."""
    spec, code = models.spec_for(fn)
    started = clock.now()
    try:
        outcome = runtime.POOL.invoke(spec, code, payload, request_id)
    except runtime.Throttled as exc:
        lambda_metrics.throttled(spec.account_id, spec.region, spec.name, started)
        raise LambdaError("TooManyRequestsException", "Rate Exceeded.") from exc
    duration = outcome.duration_ms
    if outcome.function_error is None and len(outcome.payload) > RESPONSE_LIMIT:
        err = {
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
            f"({RESPONSE_LIMIT} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }
        outcome = runtime.Outcome(
            json.dumps(err).encode(), "Unhandled", outcome.log_tail, "Function.ResponseSizeTooLarge"
        )
    failed = outcome.function_error is not None
    lambda_metrics.invoked(spec.account_id, spec.region, spec.name, started, duration, failed)
    return outcome


def check_payload(payload: bytes, limit: int, operation: str) -> None:
    if len(payload) > limit:
        raise LambdaError(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the {operation} operation",
        )
    if payload.strip():
        try:
            json.loads(payload)
        except ValueError as exc:
            raise LambdaError(
                "InvalidRequestContentException",
                f"Could not parse request body into json: Could not parse payload into json: {exc}",
            ) from exc


@register(SERVICE, "Invoke")
def invoke(req: OverrideRequest) -> OverrideResponse:
    fn = models.get_function(req.account_id, req.region, _name(req), _qualifier(req))
    kind = req.headers.get("x-amz-invocation-type", "RequestResponse")
    if kind not in ("RequestResponse", "Event", "DryRun"):
        raise LambdaError("InvalidParameterValueException", f"Unsupported invocation type {kind}")
    payload = req.raw
    version = {"X-Amz-Executed-Version": str(fn.version)}
    if kind == "DryRun":
        return OverrideResponse(status=204, headers=version)
    check_payload(payload, ASYNC_REQUEST_LIMIT if kind == "Event" else SYNC_REQUEST_LIMIT, "InvokeFunction")
    models.spec_for(fn)  # an unsupported runtime fails the call, also for Event
    if kind == "Event":
        threading.Thread(target=_run_quietly, args=(fn, payload), daemon=True, name="lambda-event").start()
        return OverrideResponse(status=202, headers=version)
    outcome = run(fn, payload)
    headers = {"Content-Type": "application/json", **version}
    if outcome.function_error:
        headers["X-Amz-Function-Error"] = outcome.function_error
    if req.headers.get("x-amz-log-type") == "Tail":
        headers["X-Amz-Log-Result"] = outcome.log_tail
    return OverrideResponse(status=200, body=outcome.payload, headers=headers)


def _run_quietly(fn: LambdaFunction, payload: bytes) -> None:
    # an async invocation's failure is only in the function's log, as on AWS
    with contextlib.suppress(Exception):
        run(fn, payload)


# -- Function URL configuration ----------------------------------------------------------------------
def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def url_id_of(fn: LambdaFunction) -> str | None:
    cfg = fn.url_config
    return None if cfg is None else str(getattr(cfg, "url_id", "") or "") or None


def url_config_out(fn: LambdaFunction, updated: bool = False) -> dict[str, Any]:
    cfg = fn.url_config
    assert cfg is not None
    out: dict[str, Any] = {
        "FunctionUrl": models.local_url(str(getattr(cfg, "url_id", ""))),
        "FunctionArn": fn.function_arn,
        "AuthType": cfg.config.get("AuthType"),
        "CreationTime": cfg.created,
        "InvokeMode": cfg.config.get("InvokeMode") or "BUFFERED",
    }
    if cfg.config.get("Cors"):
        out["Cors"] = cfg.config["Cors"]
    if updated:
        out["LastModifiedTime"] = cfg.last_modified
    return out


def _no_url() -> LambdaError:
    return LambdaError("ResourceNotFoundException", "The resource you requested does not exist.")


def check_url_region(region: str) -> None:
    """Where Lambda has no function URLs, their operations do not exist: AWS answers AccessDenied
    "Unable to determine service/operation name to be authorized" (public reports: zappa/Zappa#1425 for
    ListFunctionUrlConfigs, anomalyco/sst#5327). Also the ``AWS::Lambda::Url`` create there."""
    if not lambda_facts.has_function_urls(region):
        raise LambdaError(
            "AccessDeniedException", "Unable to determine service/operation name to be authorized"
        )


def _check_url_input(body: dict[str, Any], create: bool) -> None:
    auth = body.get("AuthType")
    if (create or auth is not None) and auth not in ("NONE", "AWS_IAM"):
        raise LambdaError(
            "ValidationException",
            f"1 validation error detected: Value '{auth}' at 'authType' failed to satisfy constraint: Member "
            "must satisfy enum value set: [NONE, AWS_IAM]",
        )
    mode = body.get("InvokeMode")
    if mode is not None and mode not in ("BUFFERED", "RESPONSE_STREAM"):
        raise LambdaError(
            "ValidationException",
            f"1 validation error detected: Value '{mode}' at 'invokeMode' failed to satisfy constraint: "
            "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
        )


def create_url(fn: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
    """Shared by the API and ``AWS::Lambda::Url``."""
    check_url_region(fn.region)
    _check_url_input(config, create=True)
    if fn.url_config is not None:
        raise LambdaError(
            "ResourceConflictException",
            f"Failed to create function url config for [functionArn = {fn.function_arn}]. Error message:  "
            "FunctionUrlConfig exists for this Lambda function",
        )
    cfg = fn.create_url_config({k: v for k, v in config.items() if k in ("AuthType", "Cors", "InvokeMode")})
    url_id = uuid.uuid4().hex
    cfg.url_id = url_id  # type: ignore[attr-defined]
    cfg.created = _now()
    cfg.last_modified = cfg.created
    models.register_url(url_id, fn.account_id, fn.region, fn.function_name)
    return url_config_out(fn)


def update_url(fn: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
    _check_url_input(config, create=False)
    cfg = fn.url_config
    if cfg is None:
        raise _no_url()
    for key in ("AuthType", "Cors", "InvokeMode"):
        if key in config:
            cfg.config[key] = config[key]
    cfg.last_modified = _now()
    return url_config_out(fn, updated=True)


def delete_url(fn: LambdaFunction) -> None:
    url_id = url_id_of(fn)
    if url_id is None:
        raise _no_url()
    fn.delete_url_config()
    models.drop_url(url_id)


@register(SERVICE, "CreateFunctionUrlConfig")
def create_function_url_config(req: OverrideRequest) -> OverrideResponse:
    check_url_region(req.region)
    fn = models.get_function(req.account_id, req.region, _name(req))
    return _json(create_url(fn, req.body), status=201)


@register(SERVICE, "GetFunctionUrlConfig")
def get_function_url_config(req: OverrideRequest) -> OverrideResponse:
    check_url_region(req.region)
    fn = models.get_function(req.account_id, req.region, _name(req))
    if fn.url_config is None:
        raise _no_url()
    return _json(url_config_out(fn, updated=True))


@register(SERVICE, "UpdateFunctionUrlConfig")
def update_function_url_config(req: OverrideRequest) -> OverrideResponse:
    check_url_region(req.region)
    fn = models.get_function(req.account_id, req.region, _name(req))
    return _json(update_url(fn, req.body))


@register(SERVICE, "DeleteFunctionUrlConfig")
def delete_function_url_config(req: OverrideRequest) -> OverrideResponse:
    check_url_region(req.region)
    fn = models.get_function(req.account_id, req.region, _name(req))
    delete_url(fn)
    return OverrideResponse(status=204)


@register(SERVICE, "ListFunctionUrlConfigs")
def list_function_url_configs(req: OverrideRequest) -> OverrideResponse:
    check_url_region(req.region)
    fn = models.get_function(req.account_id, req.region, _name(req))
    configs = [url_config_out(fn, updated=True)] if fn.url_config is not None else []
    return _json({"FunctionUrlConfigs": configs})


# -- configuration: what moto drops or does not check --------------------------------------------------
def _with_logging(resp: OverrideResponse, fn: LambdaFunction, nested: bool) -> OverrideResponse:
    if resp.status >= 300 or not resp.body:
        return resp
    data = json.loads(resp.body)
    target = data.get("Configuration", data) if nested else data
    target["LoggingConfig"] = models.logging_config(fn)
    resp.body = json.dumps(data).encode()
    return resp


@register(SERVICE, "GetFunction")
def get_function(req: OverrideRequest) -> OverrideResponse:
    resp = req.forward()
    if resp.status >= 300:
        return resp
    fn = models.get_function(req.account_id, req.region, _name(req), _qualifier(req))
    return _with_logging(resp, fn, nested=True)


@register(SERVICE, "GetFunctionConfiguration")
def get_function_configuration(req: OverrideRequest) -> OverrideResponse:
    resp = req.forward()
    if resp.status >= 300:
        return resp
    fn = models.get_function(req.account_id, req.region, _name(req), _qualifier(req))
    return _with_logging(resp, fn, nested=False)


@register(SERVICE, "CreateFunction")
def create_function(req: OverrideRequest) -> OverrideResponse:
    resp = req.forward()
    if resp.status >= 300:
        return resp
    fn = models.get_function(req.account_id, req.region, _name(req))
    return _with_logging(resp, fn, nested=False)


@register(SERVICE, "UpdateFunctionConfiguration")
def update_function_configuration(req: OverrideRequest) -> OverrideResponse:
    fn = models.get_function(req.account_id, req.region, _name(req))
    models.check_update_runtime(fn, req.body.get("Runtime"))
    if "Role" in req.body:
        models.check_role(req.account_id, req.region, str(req.body["Role"]))
    if "Environment" in req.body:
        models.check_environment((req.body.get("Environment") or {}).get("Variables"))
    resp = req.forward()
    if resp.status < 300 and "LoggingConfig" in req.body:
        models.set_logging(fn.function_arn, req.body["LoggingConfig"])
    return _with_logging(resp, fn, nested=False)


# -- AddPermission: AWS writes the URL keys as conditions ------------------------------------------------
_moto_decode_policy = Policy.decode_policy


def _decode_policy(self: Policy, obj: dict[str, Any]) -> Policy:
    """``FunctionUrlAuthType`` and ``InvokedViaFunctionUrl`` become the statement's conditions, as in
    AWS's GetPolicy (moto kept them as top-level keys); the CloudFormation properties likewise."""
    obj = dict(obj)
    obj.pop("FunctionName", None)
    conditions: dict[str, dict[str, str]] = {}
    auth = obj.pop("FunctionUrlAuthType", None)
    if auth:
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = str(auth)
    via = obj.pop("InvokedViaFunctionUrl", None)
    if via in (True, "true", "True"):
        conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    policy = _moto_decode_policy(self, obj)
    if conditions:
        statement = policy.statements[0]
        merged = statement.setdefault("Condition", {})
        for op, pairs in conditions.items():
            merged.setdefault(op, {}).update(pairs)
    return policy


Policy.decode_policy = _decode_policy  # type: ignore[method-assign]
