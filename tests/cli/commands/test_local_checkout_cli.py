"""The local AWS of two checkouts on one machine, through the real CLI: one test per exit path.

The other checkout is real: a copy of emulator/ and lake/ (all the emulator runs from) in tmp_path, its
emulator started by hand there (`python -m emulator`), so its health names that copy. This checkout's
env `local` names that emulator's port as its own (a copy of config/ through OTLP2PIPELINE_CONFIG_DIR), as
config/envs/local.yaml names 4566.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.emulator import free_port, wait_healthy
from emulator.admin.client import AdminClient
from tasks import receiver_ctl
from tasks.config import CONFIG_DIR_VAR
from tasks.emulator_ctl import pid_alive
from tests.cli.checkout_helpers import own_port_config
from tests.deploy_helpers import ROOT


def doit(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "doit", "--db-file", str(tmp_path / "deps.json"), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    return {**env, "PYTHONUNBUFFERED": "1", receiver_ctl.STATE_DIR_VAR: str(tmp_path / "receiver"), **extra}


@pytest.fixture
def other_checkout(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Another checkout with its emulator running, started by hand there; (its root, its endpoint)."""
    root = tmp_path / "other-checkout"
    for package in ("emulator", "lake"):
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(endpoint, proc, time.monotonic() + 120)
        yield root.resolve(), endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_a_second_checkout_refuses_the_first_ones_local_aws_in_one_line(
    other_checkout: tuple[Path, str], tmp_path: Path
) -> None:
    root, endpoint = other_checkout
    port = endpoint.rsplit(":", 1)[1]
    health = AdminClient(endpoint).health()
    assert health["checkout"] == str(root)
    assert health["data_dir"] == str(root / ".emulator" / f"data-{port}")  # under its own checkout
    env = cli_env(tmp_path, **{CONFIG_DIR_VAR: str(own_port_config(tmp_path, endpoint))})

    deploy = doit(tmp_path, env, "deploy", "env=local")
    assert deploy.returncode == 2, deploy.stdout + deploy.stderr
    line = (
        f"error: the local AWS on 127.0.0.1:{port} belongs to checkout {root} (pid {health['pid']}, "
        f"data {health['data_dir']}), not to this one ({ROOT}): stop it there with `doit emulator_stop`, "
        "or use another port here: `endpoint=http://127.0.0.1:PORT` on each command "
        "(`doit emulator port=PORT` starts one there)"
    )
    assert deploy.stderr.strip().splitlines() == [line], deploy.stderr
    assert AdminClient(endpoint).calls() == []  # refused before any AWS call

    stop = doit(tmp_path, env, "emulator_stop", f"port={port}")
    assert stop.returncode == 2 and stop.stderr.strip().splitlines() == [line], stop.stdout + stop.stderr
    assert AdminClient(endpoint).is_healthy()  # not this checkout's to stop


def test_emulator_says_when_it_starts_and_emulator_stop_stops_the_receiver_sending_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, receiver_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = cli_env(tmp_path)
    monkeypatch.setenv(receiver_ctl.STATE_DIR_VAR, env[receiver_ctl.STATE_DIR_VAR])
    receiver: Any = None
    try:
        started = doit(tmp_path, env, "emulator", f"port={port}")
        assert started.returncode == 0, started.stdout + started.stderr
        assert started.stdout.strip().splitlines()[-1] == f"endpoint: {endpoint}"
        lines = started.stderr.strip().splitlines()
        assert (
            lines[0] == f"starting the local AWS on 127.0.0.1:{port} (log: {ROOT}/.emulator/emulator.log) ..."
        )
        assert re.fullmatch(rf"local AWS ready on 127\.0\.0\.1:{port} in \d+\.\d s", lines[1]), lines
        health = AdminClient(endpoint).health()
        assert health["checkout"] == str(ROOT)
        assert health["data_dir"] == str(ROOT / ".emulator" / f"data-{port}")

        receiver = subprocess.Popen(
            [sys.executable, "-m", "tasks.receiver", "--env", "local", "--port", str(receiver_port), "--set",
             f"endpoint={endpoint}"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        threading.Thread(target=receiver.wait, daemon=True).start()  # reaped the moment it is stopped
        url = f"http://127.0.0.1:{receiver_port}"
        wait_healthy_receiver(url, receiver)
        (tmp_path / "receiver").mkdir(exist_ok=True)
        receiver_ctl.write_state(
            {
                "pid": receiver.pid,
                "port": receiver_port,
                "host": "127.0.0.1",
                "env": "local",
                "endpoint": url,
                "aws_endpoint": endpoint,
                "token": None,
            }
        )  # as `doit ingest env=local endpoint=...` records it

        stopped = doit(tmp_path, env, "emulator_stop", f"port={port}")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert stopped.stdout.strip().splitlines() == [
            ".  emulator_stop",
            f"emulator on 127.0.0.1:{port} stopped (pid {health['pid']})",
            f"receiver for env local stopped (pid {receiver.pid}): it sent to that local AWS",
        ]
        assert not AdminClient(endpoint).is_healthy() and not pid_alive(health["pid"])
        assert receiver.wait(timeout=30) is not None and receiver_ctl.read_state() is None
        assert not (ROOT / ".emulator" / f"state-{port}.json").exists()
    finally:
        doit(tmp_path, env, "emulator_stop", f"port={port}")
        shutil.rmtree(ROOT / ".emulator" / f"data-{port}", ignore_errors=True)
        if receiver is not None and receiver.poll() is None:
            receiver.kill()
            receiver.wait()


def wait_healthy_receiver(url: str, proc: subprocess.Popen[bytes]) -> None:
    from tasks.polling import backoff, poll_until

    def up() -> bool:
        assert proc.poll() is None, f"the receiver exited with {proc.returncode}"
        return receiver_ctl.health(url) is not None

    assert poll_until(up, bool, backoff(time.monotonic() + 120, first=0.1, cap=1.0))[1]
