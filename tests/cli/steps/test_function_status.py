"""The status check of the ingest function (tasks/steps/function.py) against the local Lambda over HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from tasks import package
from tasks.aws import Clients
from tasks.config import load
from tasks.ingest_lambda import BuildTarget
from tasks.step import Context
from tasks.steps import function

NAME = "otlp2pipeline-local-ingest"


def _zip(body: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", body)
    return buf.getvalue()


def _function(emu, code: bytes, auth: str = "NONE") -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = emu.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust))
    lam = emu.client("lambda")
    lam.create_function(
        FunctionName=NAME,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="h.handler",
        Code={"ZipFile": code},
    )
    lam.create_function_url_config(FunctionName=NAME, AuthType=auth)


def _ctx(emu, **overrides: str) -> Context:
    cfg = load("local", {"endpoint": emu.endpoint, **overrides})
    ctx = Context(cfg, Clients(cfg))
    ctx.facts.stack_outputs = {"IngestFunctionName": NAME}
    return ctx


def _artifact(monkeypatch, code: bytes) -> None:
    target = BuildTarget("python3.12", "x86_64", "manylinux2014_x86_64", "3.12")
    found = package.Artifact(Path("ingest.zip"), hashlib.sha256(code).hexdigest(), target)
    monkeypatch.setattr(package, "current", lambda config: found)


def _evaluate(ctx: Context):
    want, have = function.desired(ctx), function.observe(ctx)
    return want, have, function.diff(want, have)


def test_status_shows_state_code_and_url_and_matches_the_local_zip(emulator, monkeypatch):
    code = _zip("def handler(e, c):\n    return 1\n")
    _function(emulator, code)
    _artifact(monkeypatch, code)
    emulator.reset_calls()
    _, have, d = _evaluate(_ctx(emulator))
    assert d.empty, d.changes
    assert have.state == "Active" and have.code_sha256 == hashlib.sha256(code).hexdigest()
    assert have.url and have.auth_type == "NONE"
    lines = dict(function.report(have))
    assert lines["function"].startswith(f"{NAME}: Active") and "modified" in lines["function"]
    assert lines["  url"].startswith(have.url)
    assert all(c["operation"].startswith("Get") for c in emulator.calls())  # only reads


def test_a_code_change_is_the_function_update(emulator, monkeypatch):
    _function(emulator, _zip("def handler(e, c):\n    return 1\n"))
    new = _zip("def handler(e, c):\n    return 2\n")
    _artifact(monkeypatch, new)
    _, have, d = _evaluate(_ctx(emulator))
    [change] = d.changes
    assert change.action == "update" and change.resource == f"lambda function {NAME} code"
    assert change.fields["CodeSha256"] == (have.code_sha256, hashlib.sha256(new).hexdigest())


def test_auth_type_other_than_the_config_is_drift(emulator, monkeypatch):
    code = _zip("x = 1\n")
    _function(emulator, code, auth="NONE")
    _artifact(monkeypatch, code)
    _, _, d = _evaluate(_ctx(emulator, **{"ingest.auth": "iam"}))
    [change] = d.changes
    assert change.fields == {"AuthType": ("NONE", "AWS_IAM")}


def test_missing_function_is_drift_and_disabled_reads_nothing(emulator, monkeypatch):
    _artifact(monkeypatch, b"")
    _, have, d = _evaluate(_ctx(emulator))
    assert not have.exists and [c.action for c in d.changes] == ["create"]
    ctx = _ctx(emulator)
    ctx.facts.stack_outputs = {}  # a stack from before the function: the stack step shows the change
    _, have, d = _evaluate(ctx)
    assert (
        not have.exists
        and d.empty
        and d.notes == ["the stack has no IngestFunctionName output yet: deploy adds the function"]
    )
    emulator.reset_calls()
    _, have, d = _evaluate(_ctx(emulator, **{"ingest.enabled": "false"}))
    assert d.empty and function.report(have) == [("function", "none (ingest.enabled is false)")]
    assert emulator.calls() == []
