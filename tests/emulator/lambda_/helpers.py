"""Tiny Lambda zips built in the test, and the role/function/URL setup the local Lambda tests share."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from typing import Any

from emulator.testing import service_trust

LAMBDA_TRUST: dict[str, Any] = service_trust("lambda.amazonaws.com")
LOGS_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}
# Echoes the event and what the function sees of its environment.
ECHO = """
import os, sys

def handler(event, context):
    print("printed by the handler")
    return {
        "event": event,
        "env": dict(os.environ),
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "path": sys.path,
        "sha": os.path.basename(os.environ["LAMBDA_TASK_ROOT"]),
    }
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(files.items()):
            zf.writestr(name, text)
    return buf.getvalue()


def create_role(emu: Any, name: str = "fn-role", logs: bool = False) -> str:
    iam = emu.client("iam")
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    )
    if logs:
        iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=json.dumps(LOGS_POLICY))
    return arn


def create_function(
    emu: Any, name: str, zip_bytes: bytes | None, role_policy: bool = False, **kwargs: Any
) -> dict[str, Any]:
    """CreateFunction through boto3 (ZipFile unless ``Code=`` is given); makes the role unless ``Role=``."""
    if "Role" not in kwargs:
        kwargs["Role"] = create_role(emu, f"{name}-role", logs=role_policy)
    code = kwargs.pop("Code", None) or {"ZipFile": zip_bytes}
    return dict(
        emu.client("lambda").create_function(
            FunctionName=name, Handler="app.handler", Code=code, **{"Runtime": "python3.12", **kwargs}
        )
    )


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (no AWS signing unless the headers carry it): status, headers, body."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
