"""The `ingest.*` settings of the receiver deployed as a Lambda function behind a Function URL.

Kept apart from tasks/config.py so the settings, their rules and the build target they imply live in one
place. Validation makes no AWS call: the runtime must be a released `python3.*` runtime that Lambda still
lets a new function use today (lake/lambda_facts.py: cfn-lint's runtime lifecycle data), the memory within
the `MemorySize` range of botocore's bundled lambda model.
"""

from __future__ import annotations

import datetime
import platform
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from lake import lambda_facts
from tasks.errors import UserError

AUTHS = ("token", "iam")
ARCHITECTURES = ("arm64", "x86_64")
# Lambda architecture -> the manylinux platform tag pip installs wheels for.
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
HANDLER = "ingest.lambda_handler.handler"


@cache
def _lambda_shape(name: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("lambda").shape_for(name)


def today() -> datetime.date:
    """The UTC date Lambda's runtime blocks are judged by (a runtime blocked today is refused today)."""
    return datetime.datetime.now(datetime.UTC).date()


def python_runtimes() -> tuple[str, ...]:
    """The released `python3.*` runtimes a new function may use today, oldest first."""
    return lambda_facts.creatable_python_runtimes(today())


def default_runtime() -> str:
    """The newest released `python3.*` runtime that Lambda lets a new function use today."""
    return lambda_facts.newest_python(today())


def _runtime_rule(runtime: str) -> str:
    """Why `runtime` is refused: blocked, not released yet, or not a Python runtime."""
    allowed = ", ".join(python_runtimes())
    if lambda_facts.python_minor(runtime) is None:
        return f"must be a Python runtime of Lambda: {allowed}"
    life = lambda_facts.lifecycles().get(runtime)
    if life is None:
        return (
            f"it is not a released Lambda runtime ({lambda_facts.LIFECYCLE_SOURCE} has no entry for it); "
            f"use one of {allowed}"
        )
    return (
        f"Lambda blocks creating functions with it since {life.create_block} "
        f"(per {lambda_facts.LIFECYCLE_SOURCE}); use one of {allowed}"
    )


def memory_range() -> tuple[int, int]:
    meta = _lambda_shape("MemorySize").metadata
    return int(meta["min"]), int(meta["max"])


@dataclass(frozen=True)
class LambdaSettings:
    enabled: bool = True
    auth: str = "token"
    runtime: str = ""  # "" until validated: lambda_settings() fills in the default
    architecture: str = "arm64"
    reserved_concurrency: int | None = None
    memory_mb: int = 512


@dataclass(frozen=True)
class BuildTarget:
    """What the zip is built for, and what the function declares: they always agree."""

    runtime: str  # python3.N
    architecture: str  # arm64 | x86_64
    platform: str  # pip's --platform
    python_version: str  # pip's --python-version, 3.N

    def to_dict(self) -> dict[str, str]:
        return dict(vars(self))


def build_target(settings: LambdaSettings, local: bool) -> BuildTarget:
    """The configured runtime/architecture, or, for the local AWS, this machine's CPython and architecture
    (its worker runs the zip with this interpreter, so the wheels must fit it)."""
    if local:
        machine = platform.machine().lower()
        arch = "arm64" if machine in ("aarch64", "arm64") else "x86_64"
        minor = sys.version_info.minor
        return BuildTarget(f"python3.{minor}", arch, PLATFORMS[arch], f"3.{minor}")
    minor_s = settings.runtime.split(".")[1]
    return BuildTarget(
        settings.runtime, settings.architecture, PLATFORMS[settings.architecture], f"3.{minor_s}"
    )


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"error: {key}={value!r} is invalid: must be true or false")
    return value


def lambda_settings(ing: dict[str, Any]) -> LambdaSettings:
    """Validate the function's settings (the `ingest` mapping of the merged config)."""
    enabled = _bool(ing.get("enabled", True), "ingest.enabled")
    auth = ing.get("auth", "token")
    if auth not in AUTHS:
        raise UserError(
            f"error: ingest.auth={auth!r} is invalid: must be token (a bearer token from Secrets Manager) "
            "or iam (SigV4-signed requests)"
        )
    runtime = ing.get("runtime") or default_runtime()
    if runtime not in python_runtimes():
        raise UserError(f"error: ingest.runtime={runtime!r} is invalid: {_runtime_rule(str(runtime))}")
    arch = ing.get("architecture", "arm64")
    if arch not in ARCHITECTURES:
        raise UserError(f"error: ingest.architecture={arch!r} is invalid: must be arm64 or x86_64")
    reserved = ing.get("reserved_concurrency")  # checked against its bounds by tasks/validation.py
    lo, hi = memory_range()
    memory = ing.get("memory_mb", 512)
    if isinstance(memory, bool) or not isinstance(memory, int) or not lo <= memory <= hi:
        raise UserError(
            f"error: ingest.memory_mb={memory!r} is invalid: must be an integer from {lo} to {hi}"
        )
    return LambdaSettings(enabled, str(auth), str(runtime), str(arch), reserved, memory)
