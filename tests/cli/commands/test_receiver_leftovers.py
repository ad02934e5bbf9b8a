"""No receiver is left behind answering 503, or with a token nobody asked for: `doit destroy` stops the env's
receiver, `doit ingest token=new` restarts a running one with the new token, and `pytest verify/ --ingest`
sends with the receiver's token (`--ingest-token`, or the one `doit ingest` keeps in its state file).

`doit ingest` runs in-process here (its action, with the doit variables set); the receiver it starts is
the real background process. `doit emulator_stop` stopping the receiver:
tests/cli/commands/test_local_checkout_cli.py.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.emulator import free_port
from tasks import receiver_ctl
from tasks.aws import Clients
from tasks.cli import ingest as ingest_cli
from tasks.destroy import destroy
from tasks.emulator_ctl import pid_alive
from tasks.errors import UserError
from tasks.step import Context
from tests.cli import verify_helpers as vh
from tests.cli.checkout_helpers import doit_vars
from tests.deploy_helpers import ROOT


@pytest.fixture
def receiver_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The receiver's state file and log in tmp_path; whatever receiver a test started is stopped after."""
    monkeypatch.setenv(receiver_ctl.STATE_DIR_VAR, str(tmp_path))
    yield tmp_path
    receiver_ctl.stop()


def ingest(emu: Any, port: int, **extra: str) -> None:
    """`doit ingest env=local port=PORT ...` against the test emulator."""
    with doit_vars(env="local", endpoint=emu.endpoint, port=str(port), **extra):
        ingest_cli._start.__wrapped__()  # type: ignore[attr-defined]  # the action without cli_action's exit


def post(endpoint: str, token: str | None) -> int:
    """An empty OTLP/HTTP protobuf request (valid: nothing to hand on); its status."""
    headers = {"Content-Type": "application/x-protobuf"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{endpoint}/v1/traces", data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def running() -> dict[str, Any]:
    state = receiver_ctl.read_state()
    assert state is not None
    return state


def test_ingest_token_new_restarts_the_running_receiver_with_the_new_token(
    emulator: Any, receiver_dir: Path, capsys: Any
) -> None:
    vh.deploy(emulator)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    ingest(emulator, port, token="new")
    first = running()
    assert post(endpoint, first["token"]) == 200
    capsys.readouterr()

    ingest(emulator, port, token="new")
    out = capsys.readouterr().out
    second = running()
    assert "restarting the receiver for env local with the new token" in out
    assert second["token"] != first["token"] and second["pid"] != first["pid"]
    assert not pid_alive(first["pid"])
    assert f"Bearer%20{second['token']}" in out and out.strip().splitlines()[-1] == f"endpoint: {endpoint}"
    assert post(endpoint, first["token"]) == 401
    assert post(endpoint, second["token"]) == 200

    ingest(emulator, port)  # no token given: the running receiver is kept as it is
    assert "receiver already running" in capsys.readouterr().out
    assert running()["pid"] == second["pid"]

    with pytest.raises(UserError, match="so the token given was not applied: run `doit ingest_stop` first"):
        ingest(emulator, free_port(), token="new")  # another port: this one holds the env's receiver
    assert running()["token"] == second["token"]


def test_destroy_stops_the_envs_receiver_once_confirmed(
    emulator: Any, receiver_dir: Path, capsys: Any
) -> None:
    cfg = vh.deploy(emulator)
    port = free_port()
    ingest(emulator, port)
    pid = running()["pid"]
    ctx = Context(cfg, Clients(cfg))
    with pytest.raises(UserError, match="needs force=1"):
        destroy(ctx, force=False)  # not confirmed: nothing deleted, the receiver kept
    assert running()["pid"] == pid
    capsys.readouterr()

    assert destroy(ctx, force=True) == 0
    assert f"stopped the receiver for env local (pid {pid})" in capsys.readouterr().out
    assert not pid_alive(pid)
    assert receiver_ctl.read_state() is None and not receiver_ctl.state_file().exists()


def test_destroy_keeps_a_receiver_sending_elsewhere(emulator: Any, receiver_dir: Path) -> None:
    """The env's name is not enough: a receiver of env local on another local AWS keeps running."""
    cfg = vh.deploy(emulator)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        receiver_ctl.write_state(
            {"pid": sleeper.pid, "port": 1, "env": "local", "endpoint": "http://127.0.0.1:1",
             "aws_endpoint": "http://127.0.0.1:9", "token": None}
        )  # fmt: skip
        assert destroy(Context(cfg, Clients(cfg)), force=True) == 0
        assert sleeper.poll() is None and running()["pid"] == sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def verify_ingest(emu: Any, state_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**vh.cli_env(emu), receiver_ctl.STATE_DIR_VAR: str(state_dir)}
    cmd = [sys.executable, "-m", "pytest", "verify/", "--env", "local", "-p", "no:cacheprovider", "-q"]
    return subprocess.run(
        [*cmd, "-k", "sdk_batch", "--delivery-margin", "30", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_verify_ingest_sends_with_the_receivers_token(
    emulator: Any, receiver_dir: Path, tmp_path: Path
) -> None:
    vh.deploy(emulator)
    port = free_port()
    ingest(emulator, port, token="new")
    url, token = f"http://127.0.0.1:{port}", running()["token"]
    nobody = tmp_path / "no-receiver-state"
    nobody.mkdir()

    read = verify_ingest(emulator, receiver_dir, "--ingest", url)  # the state file names this receiver
    assert read.returncode == 0 and "1 passed" in read.stdout, read.stdout + read.stderr
    given = verify_ingest(emulator, nobody, "--ingest", url, "--ingest-token", token)
    assert given.returncode == 0 and "1 passed" in given.stdout, given.stdout + given.stderr
    without = verify_ingest(emulator, nobody, "--ingest", url)
    assert without.returncode == 1, without.stdout + without.stderr
    refused = f"the receiver at {url} refuses requests without a token: pass --ingest-token TOKEN"
    assert refused in without.stdout, without.stdout
