"""doctor's ingest checks: the function's role read over HTTP, judged as IAM does (tasks/doctor/ingest.py)."""

from __future__ import annotations

import io
import json
import zipfile

from tasks.aws import Clients
from tasks.config import load
from tasks.doctor import ingest as doctor_ingest
from tasks.step import Context

NAME = "otlp2pipeline-local-ingest"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _setup(emu, statements: list[dict], env_vars: dict[str, str] | None = None) -> tuple[Context, str]:
    cfg = load("local", {"endpoint": emu.endpoint})
    ctx = Context(cfg, Clients(cfg))
    secret = emu.client("secretsmanager").create_secret(Name="t", SecretString="x" * 32)["ARN"]
    iam = emu.client("iam")
    role = iam.create_role(RoleName="ingest-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    doc = {
        "Version": "2012-10-17",
        "Statement": statements or [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="ingest-role", PolicyName="ingest", PolicyDocument=json.dumps(doc))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", "x = 1\n")
    variables = {f"OTLP_STREAM_{s.upper()}": cfg.stream_name(s) for s in cfg.signals}
    variables |= {"OTLP_TOKEN_SECRET_ARN": secret, **(env_vars or {})}
    emu.client("lambda").create_function(
        FunctionName=NAME,
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": buf.getvalue()},
        Environment={"Variables": variables},
    )
    ctx.facts.stack_outputs = {"IngestFunctionName": NAME, "IngestTokenSecretArn": secret}
    return ctx, secret


def _allow_all(ctx: Context, secret: str) -> list[dict]:
    streams = [ctx.config.stream_arn(ctx.account_id, s) for s in ctx.config.signals]
    return [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret},
        {"Effect": "Allow", "Action": ["firehose:PutRecordBatch"], "Resource": streams},
    ]


def test_a_role_with_the_secret_and_every_stream_passes(emulator):
    ctx, secret = _setup(emulator, [])
    streams = [ctx.config.stream_arn(ctx.account_id, s) for s in ctx.config.signals]
    emulator.client("iam").put_role_policy(
        RoleName="ingest-role",
        PolicyName="ingest",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": _allow_all(ctx, secret)}),
    )
    emulator.reset_calls()
    checks = list(doctor_ingest.run_checks(ctx))
    assert [c for c in checks if not c.ok] == []
    assert len(checks) == 2 + len(ctx.config.signals) and len(streams) == len(ctx.config.signals)
    assert all(c["operation"].startswith(("Get", "List")) for c in emulator.calls())


def test_a_missing_stream_grant_and_a_deny_are_named(emulator, local_config):
    cfg = local_config()
    first, *rest = cfg.signals
    statements: list[dict] = [
        {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "firehose:PutRecordBatch",
            "Resource": [cfg.stream_arn("123456789012", s) for s in rest],
        },
    ]
    ctx, _ = _setup(emulator, statements)
    bad = {c.cause: c.found for c in doctor_ingest.run_checks(ctx) if not c.ok}
    assert set(bad) == {
        "function role may secretsmanager:GetSecretValue on its token secret",
        f"function may firehose:PutRecordBatch to {cfg.stream_name(first)} (OTLP_STREAM_{first.upper()})",
    }
    assert cfg.stream_arn("123456789012", first) in bad[next(k for k in bad if "firehose" in k)]


def test_an_environment_naming_another_stream_fails(emulator, local_config):
    cfg = local_config()
    sig = cfg.signals[0]
    ctx, secret = _setup(emulator, [], {f"OTLP_STREAM_{sig.upper()}": "someone-elses"})
    emulator.client("iam").put_role_policy(
        RoleName="ingest-role",
        PolicyName="ingest",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": _allow_all(ctx, secret)}),
    )
    [bad] = [c for c in doctor_ingest.run_checks(ctx) if not c.ok]
    assert bad.found.startswith(f"OTLP_STREAM_{sig.upper()}='someone-elses'")
