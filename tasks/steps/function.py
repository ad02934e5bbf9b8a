"""Status-only check: the ingest Lambda function and its Function URL, against the local zip.

The stack owns the function (deploy changes its code through the stack's S3Key); this check only reads
(GetFunction, GetFunctionUrlConfig), so status shows the function's state, its last modification, whether
its code is the zip `doit package` built (build/ENV/ingest-<sha256>.zip), and the URL.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from botocore.exceptions import ClientError

from tasks.errors import StepFailed, error_code
from tasks.step import Change, Context, Diff, Outcome

NAME = "function"
FUNCTION_OUTPUT = "IngestFunctionName"
URL_AUTH_TYPES = {"token": "NONE", "iam": "AWS_IAM"}  # ingest.auth -> the Function URL's AuthType


@dataclass(frozen=True)
class Wanted:
    enabled: bool
    function_name: str  # "" when the stack has no function output yet
    auth_type: str  # the Function URL's AuthType for ingest.auth
    zip_sha256: str | None  # hex sha256 of the up-to-date local zip; None when none is built


@dataclass(frozen=True)
class Function:
    exists: bool
    name: str = ""
    state: str = ""
    last_update_status: str = ""
    last_modified: str = ""
    code_sha256: str = ""  # hex (Lambda returns base64 of the digest)
    url: str | None = None
    auth_type: str | None = None
    enabled: bool = True  # ingest.enabled: false reads nothing


def desired(ctx: Context) -> Wanted:
    from tasks import package  # the zip `doit package` built, when up to date with the sources (no build)

    settings = ctx.config.ingest.function
    name = str(ctx.facts.stack_outputs.get(FUNCTION_OUTPUT) or "")
    artifact = package.current(ctx.config) if settings.enabled else None
    return Wanted(
        settings.enabled, name, URL_AUTH_TYPES.get(settings.auth, ""), artifact.sha256 if artifact else None
    )


def hex_digest(code_sha256_b64: str) -> str:
    try:
        return base64.b64decode(code_sha256_b64, validate=True).hex()
    except ValueError:
        return code_sha256_b64


def observe(ctx: Context) -> Function:
    if not ctx.config.ingest.function.enabled:
        return Function(False, enabled=False)
    name = str(ctx.facts.stack_outputs.get(FUNCTION_OUTPUT) or "")
    if not name:
        return Function(False)
    lam = ctx.clients.client("lambda")
    try:
        conf = lam.get_function(FunctionName=name)["Configuration"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return Function(False, name)
        raise
    url = auth = None
    try:
        cfg = lam.get_function_url_config(FunctionName=name)
        url, auth = str(cfg["FunctionUrl"]), str(cfg.get("AuthType", ""))
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    return Function(
        True,
        name,
        str(conf.get("State", "")),
        str(conf.get("LastUpdateStatus", "")),
        str(conf.get("LastModified", "")),
        hex_digest(str(conf.get("CodeSha256", ""))),
        url,
        auth,
    )


def diff(want: Wanted, have: Function) -> Diff:
    if not want.enabled:
        return Diff()
    if not want.function_name:  # the stack step's own diff carries the template change: not counted twice
        return Diff(notes=[f"the stack has no {FUNCTION_OUTPUT} output yet: deploy adds the function"])
    label = f"lambda function {want.function_name}"
    if not have.exists:  # deleted behind the stack's back
        return Diff([Change("create", label, reason="the stack creates it")])
    changes: list[Change] = []
    if have.state and have.state != "Active":
        changes.append(Change("update", label, {"State": (have.state, "Active")}, "not active"))
    if want.zip_sha256 and have.code_sha256 != want.zip_sha256:
        changes.append(
            Change(
                "update",
                f"{label} code",
                {"CodeSha256": (have.code_sha256, want.zip_sha256)},
                "the local zip differs: deploy uploads it and updates the function",
            )
        )
    if have.url is None:
        changes.append(Change("create", f"{label} URL", reason="the stack creates it"))
    elif have.auth_type != want.auth_type:
        changes.append(
            Change("update", f"{label} URL", {"AuthType": (have.auth_type, want.auth_type)}, "ingest.auth")
        )
    notes = (
        []
        if want.zip_sha256
        else ["the local zip is missing or older than ingest/: run `doit package` to compare the code"]
    )
    return Diff(changes, notes)


CODE_KEY_PARAMETER = "IngestCodeKey"  # the stack's parameter: the zip's S3 key, the function's Code.S3Key


def code_change(have: dict[str, str], want: dict[str, str]) -> tuple[str, str] | None:
    """For plan: stack parameters that differ only in the zip's key are the function's code update (what
    a change in ingest/ makes), shown as the two keys rather than two parameter maps."""
    rest_have = {k: v for k, v in have.items() if k != CODE_KEY_PARAMETER}
    rest_want = {k: v for k, v in want.items() if k != CODE_KEY_PARAMETER}
    old, new = have.get(CODE_KEY_PARAMETER), want.get(CODE_KEY_PARAMETER)
    if rest_have != rest_want or old is None or new is None or old == new:
        return None
    return (f"{CODE_KEY_PARAMETER} {old}", f"{CODE_KEY_PARAMETER} {new}: the ingest function's code update")


def apply(ctx: Context, d: Diff) -> Outcome:
    raise StepFailed("error: the ingest function is owned by the stack; run `doit deploy`")


def report(have: Function) -> list[tuple[str, str]]:
    if not have.enabled:
        return [("function", "none (ingest.enabled is false)")]
    if not have.exists:
        return [("function", f"missing{f' ({have.name})' if have.name else ''}")]
    state = have.state + (f", last update {have.last_update_status}" if have.last_update_status else "")
    return [
        ("function", f"{have.name}: {state}, modified {have.last_modified}"),
        ("  code sha256", have.code_sha256),
        ("  url", f"{have.url} (AuthType {have.auth_type})" if have.url else "missing"),
    ]
