"""doit tasks for the OTLP receiver: ``doit ingest env=ENV [port=4318] [host=H] [token=new]``, ingest_stop.

The receiver (``python -m tasks.receiver``) runs in the background; its pid, port, env and AWS endpoint are
kept in ``.emulator/ingest.json`` and its log in ``.emulator/ingest.log`` (mode 0600), beside the emulator's
(tasks/receiver_ctl.py). A generated token reaches it through the environment, never its command line, and
is kept in the state file (mode 0600) so that a second ``doit ingest`` can print the exporter settings
again, and ``doit status`` can read the receiver's counts (its health answers them only with the token). A
token given to ``doit ingest`` for a running receiver (``token=new``) restarts it with that token.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from typing import Any

from tasks.cli import args
from tasks.config import Config
from tasks.emulator_ctl import REPO_ROOT, private_log
from tasks.errors import NotDeployed, StepFailed, UserError, cli_action, emit
from tasks.polling import backoff, poll_until
from tasks.receiver_ctl import health, log_file, read_state, stop, write_state

START_TIMEOUT_S = 60.0


def _ensure_deployed(config: Config) -> None:
    """Every signal's stream must exist; for env=local a missing one means: deploy the env now."""
    from botocore.exceptions import ClientError

    from tasks.aws import Clients  # starts the emulator for env=local when it is not running
    from tasks.errors import error_code

    clients = Clients(config)
    missing = []
    for sig in config.signals:
        try:
            clients.firehose.describe_delivery_stream(DeliveryStreamName=config.stream_name(sig))
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            missing.append(config.stream_name(sig))
    if not missing:
        return
    if config.env != "local":
        raise NotDeployed(
            f"error: stream {missing[0]} does not exist: run `doit deploy env={config.env}` first"
        )
    from tasks.lock import hold
    from tasks.runner import Run

    emit(f"env local is not deployed ({', '.join(missing)} missing): deploying it")
    hold(config, "deploy", clients.account_id)
    failed = [r for r in Run(config).deploy_sequential() if r.error]
    if failed:
        raise StepFailed(f"error: deploy:{failed[0].name} failed: {failed[0].error}")


def _exporter_settings(endpoint: str, token: str | None) -> None:
    emit(f"export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}")
    if token:
        emit(f"export OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20{token}")


def _spawn(config: Config, host: str, port: int, token: str | None) -> subprocess.Popen[bytes]:
    from tasks.receiver import TOKEN_VAR  # its module loads the server (uvicorn): only when one starts

    cmd = [sys.executable, "-m", "tasks.receiver", "--env", config.env, "--port", str(port), "--host", host]
    given = args.overrides()
    for key, value in given.items():
        if key != "ingest.token":
            cmd += ["--set", f"{key}={value}"]
    if config.endpoint and "endpoint" not in given:
        cmd += ["--set", f"endpoint={config.endpoint}"]
    env = {k: v for k, v in os.environ.items() if k != TOKEN_VAR}
    if token:
        env[TOKEN_VAR] = token
    with private_log(log_file()) as log:
        return subprocess.Popen(
            cmd,
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: survives the doit run that started it
        )


def _wait_healthy(endpoint: str, proc: subprocess.Popen[bytes]) -> None:
    def healthy() -> bool:
        if health(endpoint) is not None:
            return True
        if proc.poll() is not None:
            raise StepFailed(
                f"error: the receiver exited during start-up (code {proc.returncode}); see {log_file()}"
            )
        return False

    if not poll_until(healthy, bool, backoff(time.monotonic() + START_TIMEOUT_S, first=0.05, cap=0.5))[1]:
        raise StepFailed(
            f"error: the receiver on {endpoint} is not healthy after {START_TIMEOUT_S:.0f}s: see {log_file()}"
        )


@cli_action
def _start() -> None:
    config = args.config()
    port = args.port(config.ingest.port)
    host = args.host()
    endpoint = f"http://127.0.0.1:{port}" if host in ("0.0.0.0", "127.0.0.1", "") else f"http://{host}:{port}"
    asked = args.raw("token") is not None  # token=new or token=VALUE: the receiver must take it
    token = args.token(config)
    state = read_state()
    restart = False
    if state is not None:
        same = state.get("env") == config.env and state.get("port") == port and health(endpoint)
        if same and not (asked and token != state.get("token")):
            emit(f"receiver already running for env {config.env} (log: {log_file()})")
            _exporter_settings(endpoint, state.get("token"))
            emit(f"endpoint: {endpoint}")
            return
        if not same:
            held = f"a receiver for env {state.get('env')} is already running on port {state.get('port')}"
            raise UserError(
                f"error: {held} (pid {state.get('pid')})"
                + (", so the token given was not applied" if asked else "")
                + ": run `doit ingest_stop` first"
            )
        restart = True
    _ensure_deployed(config)
    if restart:
        emit(f"restarting the receiver for env {config.env} with the new token: the old one is refused now")
        stop()
    proc = _spawn(config, host, port, token)
    try:
        _wait_healthy(endpoint, proc)
    except StepFailed:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    write_state(
        {
            "pid": proc.pid,
            "port": port,
            "host": host,
            "env": config.env,
            "endpoint": endpoint,
            "aws_endpoint": config.endpoint,
            "token": token,
        }
    )
    emit(f"receiver started for env {config.env}, one line per request in {log_file()}")
    _exporter_settings(endpoint, token)
    emit(f"endpoint: {endpoint}")


@cli_action
def _stop() -> None:
    args.check_keys()
    emit("receiver stopped" if stop() is not None else "no receiver was running")


def receiver_status(config: Config) -> dict[str, Any]:
    """For `doit status`: whether the env's receiver runs here, and the rows it handed on since it started."""
    state = read_state()
    if state is None or state.get("env") != config.env:
        return {"running": False}
    doc = health(str(state["endpoint"]), state.get("token"))
    if doc is None:
        return {"running": False}
    return {
        "running": True,
        "endpoint": state["endpoint"],
        "pid": state["pid"],
        "rows": int(doc.get("rows_total", 0)),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(doc.get("started", 0)))),
    }


def receiver_line(status: dict[str, Any], env: str) -> str:
    if not status.get("running"):
        return f"receiver: not running (start it with `doit ingest env={env}`)"
    return (
        f"receiver: running on {status['endpoint']} (pid {status['pid']}): "
        f"{status['rows']} rows handed on since {status['since']}"
    )


def task_ingest() -> dict[str, Any]:
    """Start the OTLP/HTTP receiver in the background against the env's streams (idempotent)."""
    return {
        "doc": "Start the OTLP/HTTP receiver for env=ENV in the background (port=4318 host= token=new)",
        "actions": [_start],
        "uptodate": [False],
        "verbosity": 2,
    }


def task_ingest_stop() -> dict[str, Any]:
    """Stop the receiver started by ``doit ingest``."""
    return {
        "doc": "Stop the OTLP/HTTP receiver started by `doit ingest`",
        "actions": [_stop],
        "uptodate": [False],
        "verbosity": 2,
    }
