"""Start, find and stop the background emulator (``python -m emulator``) for the local env.

State (pid, port, data dir) lives in ``.emulator/state.json``; the log in ``.emulator/emulator.log``.
Readiness is polled with backoff toward a deadline, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from emulator.admin.client import AdminClient
from tasks.errors import StepFailed, UserError
from tasks.polling import backoff, poll_until

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".emulator"
STATE_FILE = STATE_DIR / "state.json"
LOG_FILE = STATE_DIR / "emulator.log"
DEFAULT_DATA_DIR = STATE_DIR / "data"
DEFAULT_PORT = 4566
START_TIMEOUT_S = 60.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def private_log(path: Path) -> BinaryIO:
    """`path` opened for appending, readable and writable by its owner only (0600), however it was made
    before: a background process's log holds what it was sent (paths, error messages)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


def endpoint_for(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def is_healthy(endpoint: str, timeout: float = 1.0) -> bool:
    return AdminClient(endpoint).is_healthy(timeout)


def _port_of(endpoint: str) -> int:
    parsed = urlparse(endpoint)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
        raise UserError(
            f"error: endpoint={endpoint!r}: the emulator only serves http on a loopback address (127.0.0.1)"
        )
    return parsed.port or 80


def read_state() -> dict[str, Any] | None:
    try:
        data = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM, wait up to `grace_s` with backoff (reaping our own child), then SIGKILL.

    The one way the tool stops its background processes (the emulator, the OTLP receiver)."""
    if pid <= 0 or not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)

    def gone() -> bool:
        if not pid_alive(pid):
            return True
        with contextlib.suppress(ChildProcessError):  # reap it when it is our child (tests)
            os.waitpid(pid, os.WNOHANG)
        return False

    poll_until(gone, bool, backoff(time.monotonic() + grace_s, first=0.05, cap=0.5))
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def wait_healthy(endpoint: str, deadline: float, pid: int | None = None) -> None:
    """Poll health with exponential backoff until ``deadline`` (a time.monotonic() value)."""

    def healthy() -> bool:
        if is_healthy(endpoint):
            return True
        if pid is not None and not pid_alive(pid):
            raise StepFailed(f"error: emulator on {endpoint} exited during start-up; see {LOG_FILE}")
        return False

    if not poll_until(healthy, bool, backoff(deadline, first=0.05, cap=1.0))[1]:
        raise StepFailed(  # it ran and failed: exit 1, not "bad input"
            f"error: emulator on {endpoint} not healthy after {START_TIMEOUT_S:.0f}s; see {LOG_FILE}"
        )


def start(port: int = DEFAULT_PORT, data_dir: Path | str | None = None) -> str:
    """Start the emulator in the background unless one is healthy on ``port``; returns its endpoint."""
    endpoint = endpoint_for(port)
    if is_healthy(endpoint):
        return endpoint
    # Each port its own data dir: an emulator wipes its data dir on start.
    data = (
        Path(data_dir)
        if data_dir
        else (DEFAULT_DATA_DIR if port == DEFAULT_PORT else STATE_DIR / f"data-{port}")
    )
    with private_log(LOG_FILE) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(data)],
            cwd=str(REPO_ROOT),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: survives the doit run that started it
        )
    STATE_FILE.write_text(
        json.dumps({"pid": proc.pid, "port": port, "data_dir": str(data), "endpoint": endpoint})
    )
    wait_healthy(endpoint, time.monotonic() + START_TIMEOUT_S, pid=proc.pid)
    return endpoint


def ensure_emulator(endpoint: str) -> None:
    """Make sure something healthy answers at this loopback endpoint, starting the emulator if not."""
    port = _port_of(endpoint)
    if is_healthy(endpoint):
        return
    start(port)


def stop() -> bool:
    """Stop the emulator recorded in the state file; True when one was stopped."""
    state = read_state()
    if not state:
        return False
    pid = int(state.get("pid", 0))
    stopped = pid > 0 and pid_alive(pid)
    terminate(pid)
    STATE_FILE.unlink(missing_ok=True)
    return stopped
