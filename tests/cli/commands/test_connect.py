"""`doit connect`: the endpoint, SDK variables and Collector block, from the stack's outputs and secret."""

from __future__ import annotations

import json

import pytest
import yaml

from tasks import connect
from tasks.aws import Clients
from tasks.errors import EXIT_FAILED, NotDeployed
from tests.cli.connect_helpers import TOKEN, ingest_outputs_stack
from tests.deploy_helpers import doit


def test_connect_reads_outputs_and_secret(emulator, local_config):
    outputs = ingest_outputs_stack(emulator)
    emulator.reset_calls()
    conn = connect.read(local_config(), Clients(local_config()))
    assert conn.endpoint == outputs["IngestEndpoint"] and conn.endpoint.endswith("/")
    assert conn.auth == "token" and conn.token == TOKEN
    assert conn.secret_arn == outputs["IngestTokenSecretArn"]
    writes = [c for c in emulator.calls() if not c["operation"].startswith(("Get", "Describe", "List"))]
    assert writes == []
    assert emulator.call_count("secretsmanager", "GetSecretValue") == 1


def test_connect_cli_masks_when_piped_and_shows_with_show(emulator, tmp_path):
    ingest_outputs_stack(emulator)
    masked = doit(emulator, tmp_path, "connect")
    assert masked.returncode == 0, masked.stderr
    assert TOKEN not in masked.stdout and connect.MASK in masked.stdout
    assert "show=1" in masked.stderr  # how to print it
    shown = doit(emulator, tmp_path, "connect", "show=1", "format=json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)  # stdout is the document alone
    assert doc["token"] == TOKEN and doc["token_masked"] is False and doc["auth"] == "token"
    exporter = doc["collector"]["exporters"]["otlphttp/otlp2pipeline-local"]
    assert exporter == {
        "endpoint": doc["endpoint"].rstrip("/"),
        "compression": "gzip",
        "sending_queue": {
            "batch": {"sizer": "bytes", "min_size": 524288, "max_size": 2097152, "flush_timeout": "1s"}
        },
        "headers": {"Authorization": f"Bearer {TOKEN}"},
    }
    assert doc["max_batch_bytes"] == 2097152 and doc["iam_actions"] == [] and doc["iam_policy"] is None


def test_iam_auth_gives_the_sigv4auth_extension(emulator, local_config):
    ingest_outputs_stack(emulator, auth="iam")
    conn = connect.read(local_config(), Clients(local_config()))
    assert conn.auth == "iam" and conn.token is None and conn.secret_arn is None
    doc = yaml.safe_load(connect.collector_yaml(conn, show=False))
    assert doc["extensions"] == {"sigv4auth": {"region": "us-east-1", "service": "lambda"}}
    assert doc["exporters"]["otlphttp/otlp2pipeline-local"]["auth"] == {"authenticator": "sigv4auth"}
    assert "headers" not in doc["exporters"]["otlphttp/otlp2pipeline-local"]
    assert doc["service"] == {"extensions": ["sigv4auth"]}
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in connect.sdk_env(conn, show=True)
    assert emulator.call_count("secretsmanager", "GetSecretValue") == 0


def test_iam_auth_names_both_permissions_in_text_and_json(emulator, local_config):
    outputs = ingest_outputs_stack(emulator, auth="iam")
    conn = connect.read(local_config(), Clients(local_config()))
    arn = f"arn:aws:lambda:us-east-1:{emulator.account_id}:function:{outputs['IngestFunctionName']}"
    assert conn.function_arn == arn
    text = connect.text(conn, show=False)
    assert f"lambda:InvokeFunctionUrl and lambda:InvokeFunction on {arn}" in text
    doc = connect.document(conn, show=False)
    assert doc["iam_actions"] == ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"]
    assert doc["iam_policy"]["Statement"] == [
        {"Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"], "Resource": arn}
    ]


def test_env_without_stack_is_one_line_exit_1(emulator, tmp_path):
    res = doit(emulator, tmp_path, "connect")
    assert res.returncode == EXIT_FAILED  # not deployed: as query, tables, send and ingest (tasks/errors.py)
    line = [x for x in res.stderr.splitlines() if x.startswith("error:")]
    assert line == ["error: stack otlp2pipeline-local is not deployed: run `doit deploy env=local` first"]


def test_stack_without_ingest_outputs_is_refused(emulator, local_config):
    with pytest.raises(NotDeployed, match="has no IngestEndpoint output"):
        connect.from_outputs(local_config(), {"StackEnv": "local"})


def test_bad_show_value_is_refused_before_any_call(emulator, tmp_path):
    emulator.reset_calls()
    res = doit(emulator, tmp_path, "connect", "show=maybe")
    assert res.returncode == 2
    assert "error: show='maybe' is invalid: must be 1 or 0" in res.stderr
    assert emulator.calls() == []


def test_ingest_disabled_is_one_line_exit_2_before_any_call(emulator, tmp_path):
    emulator.reset_calls()
    res = doit(emulator, tmp_path, "connect", "ingest.enabled=false")
    assert res.returncode == 2
    assert [x for x in res.stderr.splitlines() if x.startswith("error:")] == [
        "error: ingest.enabled is false for env local: there is no endpoint to connect to "
        "(set ingest.enabled: true and deploy)"
    ]
    assert emulator.calls() == []
