"""doit tasks for this checkout's local AWS: ``doit emulator [port=4566]``, ``doit emulator_stop [port=P]``.

Stopping an emulator also stops the receiver (`doit ingest`) that sends to it: it would answer 503 to
every request.
"""

from __future__ import annotations

from typing import Any

from tasks import emulator_ctl, receiver_ctl
from tasks.cli import args
from tasks.errors import cli_action, emit


@cli_action
def _start() -> None:
    args.check_keys()
    port = args.port(emulator_ctl.DEFAULT_PORT)
    started = emulator_ctl.start(port)
    emit(f"emulator started (log: {emulator_ctl.LOG_FILE})" if started else "emulator already running")
    emit(f"endpoint: {emulator_ctl.endpoint_for(port)}")


def _ports() -> tuple[list[int], bool]:
    """`port=P` or `endpoint=URL`: that one, named; neither: every one this checkout started, and the
    default's, none of them named (another checkout's among them is left running with a line, not refused)."""
    if args.raw("port") is not None:
        return [args.port(emulator_ctl.DEFAULT_PORT)], True
    endpoint = args.raw("endpoint")
    if endpoint:
        return [emulator_ctl.port_of(endpoint)], True
    return sorted({*emulator_ctl.recorded_ports(), emulator_ctl.DEFAULT_PORT}), False


@cli_action
def _stop() -> None:
    args.check_keys()
    ports, named = _ports()
    stopped, ours = False, []
    for port in ports:
        try:
            pid = emulator_ctl.stop(port)
        except emulator_ctl.ForeignEmulator as exc:
            if named:
                raise
            emit(f"left running: {exc.found.whose()}")
            continue
        ours.append(port)
        if pid is not None:
            stopped = True
            emit(f"emulator on 127.0.0.1:{port} stopped (pid {pid})")
    if not stopped:
        emit("no emulator was running")
    receiver = receiver_ctl.stop_sending_to([emulator_ctl.endpoint_for(p) for p in ours])
    if receiver is not None:
        emit(f"receiver for env {receiver.env} stopped (pid {receiver.pid}): it sent to that local AWS")


def task_emulator() -> dict[str, Any]:
    """Start this checkout's local AWS in the background (idempotent)."""
    return {
        "doc": "Start this checkout's local AWS in the background (idempotent)",
        "actions": [_start],
        "uptodate": [False],  # a live check every time: never skipped while the emulator is down
        "verbosity": 2,
    }


def task_emulator_stop() -> dict[str, Any]:
    """Stop this checkout's local AWS, and the receiver that sends to it."""
    return {
        "doc": "Stop this checkout's local AWS (port=P: that one) and the receiver sending to it",
        "actions": [_stop],
        "uptodate": [False],
        "verbosity": 2,
    }
