"""doit tasks for the embedded local AWS: ``doit emulator [port=4566]`` and ``doit emulator_stop``."""

from __future__ import annotations

from typing import Any

from tasks import emulator_ctl
from tasks.cli import args
from tasks.errors import cli_action, emit


@cli_action
def _start() -> None:
    args.check_keys()
    port = args.port(emulator_ctl.DEFAULT_PORT)
    endpoint = emulator_ctl.endpoint_for(port)
    already = emulator_ctl.is_healthy(endpoint)
    emulator_ctl.start(port)
    emit("emulator already running" if already else f"emulator started (log: {emulator_ctl.LOG_FILE})")
    emit(f"endpoint: {endpoint}")


@cli_action
def _stop() -> None:
    args.check_keys()
    emit("emulator stopped" if emulator_ctl.stop() else "no emulator was running")


def task_emulator() -> dict[str, Any]:
    """Start the embedded local AWS in the background (idempotent)."""
    return {
        "doc": "Start the embedded local AWS in the background (idempotent)",
        "actions": [_start],
        "uptodate": [False],  # a live check every time: never skipped while the emulator is down
        "verbosity": 2,
    }


def task_emulator_stop() -> dict[str, Any]:
    """Stop the background emulator started by ``doit emulator``."""
    return {
        "doc": "Stop the background local AWS started by `doit emulator`",
        "actions": [_stop],
        "uptodate": [False],
        "verbosity": 2,
    }
