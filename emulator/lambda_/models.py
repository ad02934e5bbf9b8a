"""Lambda state: moto's lambda backend (functions, code, policies), plus what the local runtime needs.

moto's ``LambdaFunction`` keeps the code (``code_bytes`` from ZipFile or S3Bucket/S3Key, ``code_digest``
the hex SHA-256) and its configuration; this module turns one into a ``runtime.FunctionSpec``, keeps the
Function URL index (url-id -> function), the endpoint the workers call back (``AWS_ENDPOINT_URL``), and the
role checks AWS makes on CreateFunction. The worker's credentials are moto STS credentials for the
function's role, so calls the function makes are the role's, as on AWS.
"""

from __future__ import annotations

import datetime
import re
import threading
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.core.exceptions import JsonRESTError

from emulator.core import clock
from emulator.iam.policy import Need, first_denied, partition_of, trusts_service
from emulator.lambda_ import runtime
from emulator.lambda_.exceptions import LambdaError, from_moto
from lake import lambda_facts

LOCAL_URL_PREFIX = "/_lambda-url/"
_lock = threading.RLock()
_endpoint: list[str] = ["http://127.0.0.1:4566"]
# url-id -> (account, region, function name)
_urls: dict[str, tuple[str, str, str]] = {}
# function ARN -> LoggingConfig as given (moto does not keep it)
_logging: dict[str, dict[str, Any]] = {}

RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def set_endpoint(url: str) -> None:
    """The emulator's own endpoint (workers' ``AWS_ENDPOINT_URL``, the local Function URL's host)."""
    with _lock:
        _endpoint[0] = url.rstrip("/")


def endpoint() -> str:
    with _lock:
        return _endpoint[0]


def backend(account_id: str, region: str) -> LambdaBackend:
    return lambda_backends[account_id][region]


def get_function(account_id: str, region: str, name: str, qualifier: str | None = None) -> LambdaFunction:
    try:
        return backend(account_id, region).get_function(name, qualifier)
    except JsonRESTError as exc:
        raise from_moto(exc) from exc


# -- CreateFunction checks AWS makes --------------------------------------------------------------
_ROLE_ARN = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


def check_role(account_id: str, region: str, role_arn: str) -> None:
    """AWS refuses a role that does not exist or that Lambda may not assume (InvalidParameterValue)."""
    from moto.iam.models import iam_backends

    match = _ROLE_ARN.match(role_arn or "")
    message = "The role defined for the function cannot be assumed by Lambda."
    if match is None:
        raise LambdaError("InvalidParameterValueException", message)
    iam = iam_backends[match.group(2)][partition_of(region)]
    role = next((r for r in iam.roles.values() if r.arn == role_arn), None)
    if role is None or not trusts_service(role.assume_role_policy_document, "lambda.amazonaws.com"):
        raise LambdaError("InvalidParameterValueException", message)


def check_environment(variables: dict[str, Any] | None) -> None:
    reserved = sorted(k for k in (variables or {}) if k in RESERVED_ENV)
    if reserved:
        raise LambdaError(
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}",
        )


def check_s3_code(account_id: str, region: str, code: dict[str, Any]) -> None:
    """Code from S3 must exist, as AWS reads it at once (moto takes a missing key as empty code)."""
    if "S3Bucket" not in code and "S3Key" not in code:
        return
    from moto.s3.models import s3_backends

    s3 = s3_backends[account_id][partition_of(region)]
    bucket = s3.buckets.get(str(code.get("S3Bucket", "")))
    prefix = "Error occurred while GetObject. S3 Error Code: "
    if bucket is None:
        raise LambdaError(
            "InvalidParameterValueException",
            f"{prefix}NoSuchBucket. S3 Error Message: The specified bucket does not exist",
        )
    version = code.get("S3ObjectVersion")
    key = s3.get_object(bucket.name, str(code.get("S3Key", "")), version_id=version)
    if key is None:
        raise LambdaError(
            "InvalidParameterValueException",
            f"{prefix}NoSuchKey. S3 Error Message: The specified key does not exist.",
        )


def runtimes() -> list[str]:
    """The ``Runtime`` enum of the pinned botocore's lambda model (what AWS's API accepts)."""
    from emulator.core.protocol import service_model

    return list(service_model("lambda").shape_for("Runtime").enum)


def check_update_runtime(fn: LambdaFunction, runtime_name: Any) -> None:
    """An update keeps the function's runtime (blocked once Lambda blocks updates) or moves it to another
    (blocked like a create)."""
    wanted = fn.run_time if runtime_name is None else runtime_name
    phase = "update" if wanted == fn.run_time else "create"
    check_runtime({"Runtime": wanted, "PackageType": fn.package_type}, phase)


def _today() -> datetime.date:
    return datetime.datetime.fromtimestamp(clock.now(), datetime.UTC).date()


def check_runtime(spec: dict[str, Any], phase: str = "create") -> None:
    """A zip function's runtime: of the model's enum (ValidationException), released and not blocked for
    ``phase`` (create or update) on the local AWS's date (InvalidParameterValueException), as cfn-lint's
    runtime lifecycle data says (lake/lambda_facts.py)."""
    runtime_name = spec.get("Runtime")
    if spec.get("PackageType", "Zip") != "Zip":
        return
    allowed = runtimes()
    if runtime_name not in allowed:
        raise LambdaError(
            "ValidationException",
            f"1 validation error detected: Value '{runtime_name}' at 'runtime' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]",
        )
    name = str(runtime_name)
    if not lambda_facts.is_released(name):
        raise LambdaError(
            "InvalidParameterValueException",
            f"The runtime parameter of {name} is not supported: it is not a released Lambda runtime.",
        )
    if lambda_facts.blocked(name, phase, _today()):
        raise LambdaError("InvalidParameterValueException", lambda_facts.blocked_message(name))


_moto_create_function = LambdaBackend.create_function
_moto_update_code = LambdaFunction.update_function_code


def _update_function_code(self: LambdaFunction, updated_spec: dict[str, Any]) -> dict[str, Any]:
    check_update_runtime(self, None)
    check_s3_code(self.account_id, self.region, updated_spec)
    return dict(_moto_update_code(self, updated_spec))


LambdaFunction.update_function_code = _update_function_code  # type: ignore[method-assign]


def _create_function(self: LambdaBackend, spec: dict[str, Any]) -> LambdaFunction:
    """moto's create_function with AWS's role, environment and S3 code checks (API and CloudFormation)."""
    check_runtime(spec)
    check_role(self.account_id, self.region_name, str(spec.get("Role", "")))
    check_environment((spec.get("Environment") or {}).get("Variables"))
    check_s3_code(self.account_id, self.region_name, dict(spec.get("Code") or {}))
    try:
        fn = _moto_create_function(self, spec)
    except ValueError as exc:  # moto raises its S3 code errors as ValueError(code, message)
        if len(exc.args) == 2:
            raise LambdaError(str(exc.args[0]), str(exc.args[1])) from exc
        raise
    if spec.get("LoggingConfig"):
        set_logging(fn.function_arn, spec["LoggingConfig"])
    return fn


_moto_delete_function = LambdaBackend.delete_function


def _delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
    """moto's delete_function; the function's workers stop with it (API and stack delete)."""
    try:
        arn = self.get_function(function_name, qualifier).function_arn
    except JsonRESTError:
        arn = None
    _moto_delete_function(self, function_name, qualifier)
    if arn is not None and not qualifier:
        runtime.POOL.stop_function(arn)


LambdaBackend.create_function = _create_function  # type: ignore[method-assign]
LambdaBackend.delete_function = _delete_function  # type: ignore[method-assign]


def set_logging(function_arn: str, config: dict[str, Any]) -> None:
    with _lock:
        _logging[function_arn] = dict(config)


def logging_config(fn: LambdaFunction) -> dict[str, Any]:
    """LoggingConfig as GetFunctionConfiguration shows it (AWS's defaults filled in)."""
    with _lock:
        given = dict(_logging.get(fn.function_arn, {}))
    out = {
        "LogFormat": given.get("LogFormat", "Text"),
        "LogGroup": given.get("LogGroup") or fn.logs_group_name,
    }
    for key in ("ApplicationLogLevel", "SystemLogLevel"):
        if key in given:
            out[key] = given[key]
    return out


# -- the runtime's view of a function -------------------------------------------------------------
def spec_for(fn: LambdaFunction) -> tuple[runtime.FunctionSpec, bytes]:
    if getattr(fn, "package_type", "Zip") != "Zip" or not str(fn.run_time or "").startswith("python3"):
        raise LambdaError(
            "InvalidRuntimeException",
            f"The runtime parameter of {fn.run_time} is not supported by the local AWS: it runs python3.* "
            "zip functions only.",
            502,
        )
    env = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
    env["AWS_ENDPOINT_URL"] = endpoint()
    log = logging_config(fn)
    level = log.get("ApplicationLogLevel")
    if level:
        env["AWS_LAMBDA_LOG_LEVEL"] = str(level)
    spec = runtime.FunctionSpec(
        account_id=fn.account_id,
        region=fn.region,
        name=fn.function_name,
        arn=fn.function_arn,
        version=str(fn.version),
        handler=str(fn.handler or ""),
        runtime=str(fn.run_time),
        timeout=int(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        code_sha_hex=str(getattr(fn, "code_digest", "") or ""),
        environment=tuple(sorted(env.items())),
        log_group=str(log["LogGroup"]),
        reserved_concurrency=None if fn.reserved_concurrency is None else int(fn.reserved_concurrency),
    )
    return spec, bytes(getattr(fn, "code_bytes", b"") or b"")


def _credentials(spec: runtime.FunctionSpec) -> dict[str, str]:
    """Temporary credentials of the function's role (moto STS), as Lambda gives its runtime."""
    from moto.sts.models import sts_backends

    fn = get_function(spec.account_id, spec.region, spec.name)
    try:
        role = sts_backends[spec.account_id]["global"].assume_role(
            region_name=spec.region,
            role_session_name=spec.name[:64],
            role_arn=fn.role,
            policy="",
            duration=43200,
            external_id="",
        )
        from emulator.iam.calls import register_worker

        register_worker(role.access_key_id, spec.account_id, str(fn.role))  # its calls are the role's
        return {
            "AWS_ACCESS_KEY_ID": role.access_key_id,
            "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
            "AWS_SESSION_TOKEN": role.session_token,
        }
    except Exception:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _log_sink(spec: runtime.FunctionSpec, stream: str, lines: list[str]) -> None:
    """Worker lines into CloudWatch Logs, as Lambda does: the group is created when missing if the role
    may ``logs:CreateLogGroup``; nothing is written unless it may ``logs:CreateLogStream`` and
    ``logs:PutLogEvents``."""
    import time

    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    fn = get_function(spec.account_id, spec.region, spec.name)
    iam = iam_backends[spec.account_id][partition_of(spec.region)]
    role = next((r for r in iam.roles.values() if r.arn == fn.role), None)
    if role is None:
        return
    logs = logs_backends[spec.account_id][spec.region]
    prefix = (
        f"arn:{partition_of(spec.region)}:logs:{spec.region}:{spec.account_id}:log-group:{spec.log_group}"
    )
    if spec.log_group not in logs.groups:
        if first_denied(role, [Need("logs:CreateLogGroup", f"{prefix}:*")]) is not None:
            return
        logs.create_log_group(spec.log_group, {})
    stream_arn = f"{prefix}:log-stream:{stream}"
    needs = [Need("logs:CreateLogStream", stream_arn), Need("logs:PutLogEvents", stream_arn)]
    if first_denied(role, needs) is not None:
        return
    group = logs.groups[spec.log_group]
    if stream not in group.streams:
        logs.create_log_stream(spec.log_group, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines if line]
    if events:
        logs.put_log_events(spec.log_group, stream, events)


runtime.POOL.credentials = _credentials
runtime.POOL.log_sink = _log_sink


# -- Function URLs ---------------------------------------------------------------------------------
def register_url(url_id: str, account_id: str, region: str, name: str) -> None:
    with _lock:
        _urls[url_id] = (account_id, region, name)


def drop_url(url_id: str) -> None:
    with _lock:
        _urls.pop(url_id, None)


def url_target(url_id: str) -> tuple[str, str, str] | None:
    with _lock:
        return _urls.get(url_id)


def local_url(url_id: str) -> str:
    return f"{endpoint()}{LOCAL_URL_PREFIX}{url_id}/"


def reset() -> None:
    runtime.POOL.stop_all()
    with _lock:
        _urls.clear()
        _logging.clear()
