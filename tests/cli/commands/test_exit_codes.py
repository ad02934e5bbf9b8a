"""Every command follows the one exit-code table (tasks/errors.py EXIT_CODES, the README's Commands section):
missing credentials, an env that is not deployed, a mistyped key, an unknown env, an interrupt.

One command per exit path runs as a real `doit` subprocess (test_each_exit_path_through_a_real_doit_process,
and 4 and 6 beside the tests of their causes: test_aws_strict.py, test_tables.py); the rest run the same
command lines in-process (tests/deploy_helpers.py doit())."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session
import pytest

from tasks.errors import (
    EXIT_CHANGES,
    EXIT_CREDENTIALS,
    EXIT_DOIT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
)
from tests.deploy_helpers import doit, doit_cli, mutating, total_calls
from tests.unit.tasks.template.helpers import DOIT, ROOT, no_credentials_env

NO_INGEST = "ingest.enabled=false"
# Every command that reaches AWS, with what it needs besides env= (send/query/... exit before a write).
AWS_COMMANDS: dict[str, list[str]] = {
    "plan": [],
    "deploy": [],
    "status": [],
    "send": [],
    "query": ["sql=select 1"],
    "tables": [],
    "doctor": [],
    "connect": [],
    "destroy": ["force=1"],
}
CREDENTIALS_LINE = "error: no AWS credentials found."


@contextmanager
def _listener(host: str) -> Iterator[tuple[str, socket.socket]]:
    """A port nobody answers on, that records whether anything connected (it must not)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(16)
    sock.setblocking(False)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}", sock
    finally:
        sock.close()


def _connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def _run(tmp_path: Any, args: list[str], env: dict[str, str]) -> Any:
    """`doit ARGS` in-process with `env` as the whole environment."""
    return doit(None, tmp_path, *args, env=env)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_missing_credentials_exit_7_from_every_command_with_nothing_sent(tmp_path):
    # 127.0.0.2 is not "this machine's emulator" to the tool, so no test credentials are filled in.
    with _listener("127.0.0.2") as (endpoint, sock):
        env = no_credentials_env(endpoint)
        # connect needs ingest.enabled (without it: exit 2 before any call, its own rule)
        runs = {
            name: [name, "env=local", *([] if name == "connect" else [NO_INGEST]), *extra]
            for name, extra in AWS_COMMANDS.items()
        }
        runs["ingest"] = ["ingest", "env=local", NO_INGEST, "port=4612"]
        for name, args in runs.items():
            proc = _run(tmp_path, args, env)
            assert proc.returncode == EXIT_CREDENTIALS, (name, proc.stdout, proc.stderr)
            [line] = _errors(proc.stderr)
            assert line.startswith(CREDENTIALS_LINE), (name, proc.stderr)
        assert not _connected(sock)


def test_an_env_that_is_not_deployed_exits_1_and_plan_detailed_exits_5(emulator, tmp_path):
    expected = {
        ("send",): EXIT_FAILED,
        ("query", "sql=select 1"): EXIT_FAILED,
        ("tables",): EXIT_FAILED,
        ("connect",): EXIT_FAILED,
        ("status",): EXIT_FAILED,
        ("doctor",): EXIT_FAILED,
        ("destroy", "force=1"): EXIT_OK,  # nothing to delete: already what destroy wants
        ("plan",): EXIT_OK,
        ("plan", "detailed=1"): EXIT_CHANGES,  # everything is to create
    }
    for args, code in expected.items():
        extra = [] if args[0] == "connect" else [NO_INGEST]  # connect without ingest: exit 2, no call
        proc = doit(emulator, tmp_path, *args, "env=local", *extra)
        assert proc.returncode == code, (args, proc.stdout[-2000:], proc.stderr)
        if args[0] in ("send", "query", "tables", "connect"):
            [line] = _errors(proc.stderr)
            assert "run `doit deploy env=local`" in line, (args, line)
    # A receiver for an env other than local is not deployed for it (env=local deploys itself).
    ingest = doit(emulator, tmp_path, "ingest", "env=prod", NO_INGEST, "port=4613")
    assert ingest.returncode == EXIT_FAILED, ingest.stdout + ingest.stderr
    assert _errors(ingest.stderr) == [
        "error: stream otlp2pipeline-prod-logs does not exist: run `doit deploy env=prod` first"
    ]
    # send's PutRecordBatch calls are the only writes tried, and they were refused (no such stream).
    assert set(mutating(emulator)) == {"firehose:PutRecordBatch"}
    assert emulator.client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []


def test_a_typo_on_the_command_line_is_refused_naming_the_key_before_any_call(emulator, tmp_path):
    cases = {
        ("plan", "firehose.bufering_interval_seconds=30"): "firehose.buffering_interval_seconds",
        ("deploy", "frce=1"): "force",
        ("status", "buffering_interval_seconds=30"): "firehose.buffering_interval_seconds",
        ("template", "regoin=eu-west-1"): "region",
        ("emulator_stop", "prot=4610"): "port",
    }
    emulator.reset_calls()
    for (command, typo), known in cases.items():
        proc = doit(emulator, tmp_path, command, typo, "env=local")
        assert proc.returncode == EXIT_USAGE, (command, proc.stdout, proc.stderr)
        assert proc.stderr.strip().splitlines() == [
            f"error: unknown key {typo} on the command line: did you mean {known}?"
        ], proc.stderr
    assert total_calls(emulator) == 0


def test_a_mistyped_task_name_is_doits_own_code_never_the_credentials_one(emulator, tmp_path):
    emulator.reset_calls()
    proc = doit(emulator, tmp_path, "plna", "env=local")
    assert proc.returncode == EXIT_DOIT != EXIT_CREDENTIALS, (proc.stdout, proc.stderr)
    assert "plna" in proc.stderr
    assert total_calls(emulator) == 0


def _service_endpoints(endpoint: str) -> dict[str, str]:
    """Point botocore at the local AWS per service (AWS_ENDPOINT_URL_<SERVICE>): the tool's config then
    names no endpoint, as for a real account, yet any call it made would land on the local AWS's counter."""
    session = botocore.session.get_session()
    out = {}
    for name in session.get_available_services():
        service_id = session.get_service_model(name).service_id
        out[f"AWS_ENDPOINT_URL_{str(service_id).upper().replace(' ', '_')}"] = endpoint
    return out


def test_an_env_without_a_config_file_is_refused_before_any_call(emulator, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
        **_service_endpoints(emulator.endpoint),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    emulator.reset_calls()
    control = _run(tmp_path, ["plan", "env=prod", NO_INGEST], env)  # an env with a file does reach AWS
    assert control.returncode == EXIT_OK, control.stdout[-2000:] + control.stderr
    assert total_calls(emulator) > 0
    emulator.reset_calls()
    for command in ("plan", "deploy", "status", "destroy"):
        proc = _run(tmp_path, [command, "env=prdo", "force=1"], env)
        assert proc.returncode == EXIT_USAGE, (command, proc.stdout, proc.stderr)
        assert _errors(proc.stderr) == [
            "error: env 'prdo' has no config file (config/envs/prdo.yaml): did you mean prod? The envs are "
            "local, prod; to add one, copy config/envs/prod.yaml to config/envs/prdo.yaml and adjust it"
        ], proc.stderr
    assert total_calls(emulator) == 0
    rendered = _run(tmp_path, ["template", "env=prdo", f"output={tmp_path / 't.yaml'}"], env)  # no AWS call
    assert rendered.returncode == EXIT_OK and (tmp_path / "t.yaml").exists(), rendered.stderr


# -- one real `doit` process per exit path ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("plan", NO_INGEST), EXIT_OK),  # an env not deployed yet: everything to create
        (("send", NO_INGEST), EXIT_FAILED),  # not deployed
        (("plan", "frce=1"), EXIT_USAGE),  # a mistyped key
        (("plna",), EXIT_DOIT),  # a task name doit does not know: doit's own code
        (("plan", "detailed=1", NO_INGEST), EXIT_CHANGES),
    ],
    ids=["0", "1", "2", "3", "5"],
)
def test_each_exit_path_through_a_real_doit_process(emulator, tmp_path, args, code):
    proc = doit_cli(emulator, tmp_path, *args, "env=local")
    assert proc.returncode == code, (args, proc.stdout[-2000:], proc.stderr)
    assert "Traceback" not in proc.stderr
    if code == EXIT_DOIT:  # doit's own message, naming what it refused
        assert "plna" in proc.stderr, proc.stderr
    else:  # ours: one line, or none
        assert len(_errors(proc.stderr)) == (0 if code in (EXIT_OK, EXIT_CHANGES) else 1), proc.stderr


def test_missing_credentials_exit_7_through_a_real_doit_process(tmp_path):
    with _listener("127.0.0.2") as (endpoint, sock):
        proc = subprocess.run(
            [*DOIT, "--db-file", str(tmp_path / "doit-deps.json"), "plan", "env=local", NO_INGEST],
            cwd=ROOT,
            env=no_credentials_env(endpoint),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == EXIT_CREDENTIALS, proc.stdout + proc.stderr
        [line] = _errors(proc.stderr)
        assert line.startswith(CREDENTIALS_LINE), proc.stderr
        assert not _connected(sock)
