"""Start, find and stop the background emulator (``python -m emulator``) of this checkout.

An emulator belongs to the checkout it runs from: its health answer names that checkout, its data dir and
its pid (emulator/admin/routes.py). A command that finds another checkout's emulator on its env's own
endpoint refuses before any AWS call (ForeignEmulator), so two checkouts on one machine never share state
by accident; an endpoint the user names on another port is used as told, with a note. Each started
emulator is recorded in ``.emulator/state.json`` (``state-PORT.json`` on another port than 4566), its log in
``.emulator/emulator.log``. Readiness is polled with backoff toward a deadline, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from emulator.admin.client import AdminClient
from emulator.core.state import default_data_dir
from tasks.errors import StepFailed, UserError, eprint
from tasks.polling import backoff, poll_until

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".emulator"
STATE_FILE = STATE_DIR / "state.json"
LOG_FILE = STATE_DIR / "emulator.log"
DEFAULT_PORT = 4566
START_TIMEOUT_S = 60.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ForeignEmulator(UserError):
    """Another checkout's emulator answers on this env's endpoint: refused before any AWS call, nothing
    changed (exit 2, as for any input the user must change: the port, or where the emulator runs)."""

    def __init__(self, message: str, found: Running) -> None:
        super().__init__(message)
        self.found = found


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


def port_of(endpoint: str) -> int:
    parsed = urlparse(endpoint)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
        raise UserError(
            f"error: endpoint={endpoint!r}: the emulator only serves http on a loopback address (127.0.0.1)"
        )
    return parsed.port or 80


# -- whose emulator ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """An emulator answering at `endpoint`, as its health answer describes it (None: it does not say)."""

    endpoint: str
    checkout: str | None
    data_dir: str | None
    pid: int | None

    @property
    def ours(self) -> bool:
        """Started from this checkout (by the tool or by hand with `python -m emulator`)."""
        return self.checkout is not None and _same_dir(Path(self.checkout), REPO_ROOT)

    def whose(self) -> str:
        """Whose it is, against this checkout: the first half of a refusal or a note."""
        if self.checkout is None:
            return (
                f"the local AWS on {_address(self.endpoint)} does not say which checkout started it "
                f"(an older version), so it is not taken for this checkout's ({REPO_ROOT})"
            )
        return (
            f"the local AWS on {_address(self.endpoint)} belongs to checkout {self.checkout} "
            f"(pid {self.pid}, data {self.data_dir}), not to this one ({REPO_ROOT})"
        )


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _address(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    return f"{parsed.hostname}:{parsed.port or 80}"


def running(endpoint: str, timeout: float = 1.0) -> Running | None:
    """The emulator answering at `endpoint`, or None when none does (nothing, or not a healthy emulator)."""
    try:
        doc = AdminClient(endpoint).health(timeout=timeout)
    except (OSError, ValueError, TypeError):  # nothing answers, or something that is not an emulator
        return None
    if doc.get("status") != "ok":
        return None
    pid = doc.get("pid")
    checkout, data = doc.get("checkout"), doc.get("data_dir")
    return Running(
        endpoint,
        str(checkout) if checkout else None,
        str(data) if data else None,
        int(pid) if isinstance(pid, int) else None,
    )


def foreign(found: Running) -> ForeignEmulator:
    """The one-line refusal: whose it is, and the two ways out."""
    return ForeignEmulator(
        f"error: {found.whose()}: stop it there with `doit emulator_stop`, or use another port here: "
        "`endpoint=http://127.0.0.1:PORT` on each command (`doit emulator port=PORT` starts one there)",
        found,
    )


def told(endpoint: str, env_endpoint: str | None) -> bool:
    """True when `endpoint` names another port than the env's own (its config file's endpoint): the user
    chose that emulator, so another checkout's is used as told. The env's own port is never shared."""
    if not env_endpoint:
        return True
    try:
        return port_of(env_endpoint) != port_of(endpoint)
    except UserError:  # the env's own endpoint is not a local one: this one was named on purpose
        return True


# -- start and stop ---------------------------------------------------------------------------------


def state_file(port: int) -> Path:
    return STATE_FILE if port == DEFAULT_PORT else STATE_DIR / f"state-{port}.json"


def read_state(port: int = DEFAULT_PORT) -> dict[str, Any] | None:
    try:
        data = json.loads(state_file(port).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def recorded_ports() -> list[int]:
    """The ports of every emulator this checkout started in the background (and has not stopped)."""
    ports = {DEFAULT_PORT} if STATE_FILE.exists() else set()
    for path in STATE_DIR.glob("state-*.json"):
        suffix = path.stem.removeprefix("state-")
        if suffix.isdigit():
            ports.add(int(suffix))
    return sorted(ports)


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
    if pid <= 0 or pid == os.getpid() or not pid_alive(pid):
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


def start(port: int = DEFAULT_PORT, data_dir: Path | str | None = None) -> bool:
    """Start this checkout's emulator in the background unless it already answers on ``port``; True when
    it was started. Another checkout's emulator on the port is refused (ForeignEmulator)."""
    endpoint = endpoint_for(port)
    found = running(endpoint)
    if found is not None:
        if not found.ours:
            raise foreign(found)
        return False
    data = Path(data_dir) if data_dir else default_data_dir(port)
    began = time.monotonic()
    eprint(f"starting the local AWS on {_address(endpoint)} (log: {LOG_FILE}) ...")
    with private_log(LOG_FILE) as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(data)],
            cwd=str(REPO_ROOT),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: survives the doit run that started it
        )
    state_file(port).write_text(
        json.dumps({"pid": proc.pid, "port": port, "data_dir": str(data), "endpoint": endpoint})
    )
    wait_healthy(endpoint, time.monotonic() + START_TIMEOUT_S, pid=proc.pid)
    eprint(f"local AWS ready on {_address(endpoint)} in {time.monotonic() - began:.1f} s")
    return True


def ensure_emulator(endpoint: str, env_endpoint: str | None) -> None:
    """This checkout's emulator answers at this loopback endpoint, started when nothing answers.

    Another checkout's is refused when `endpoint` is the env's own (`env_endpoint`, its config file's), and
    used with a note when the user named another port (told)."""
    port = port_of(endpoint)
    found = running(endpoint)
    if found is None:
        start(port)
        return
    if found.ours:
        return
    if not told(endpoint, env_endpoint):
        raise foreign(found)
    eprint(f"note: {found.whose()}; used because endpoint= names it: the two checkouts share its state")


def stop(port: int = DEFAULT_PORT) -> int | None:
    """Stop this checkout's emulator on ``port`` (started by the tool or by hand); the pid stopped, or None
    when none was running. Another checkout's is refused (ForeignEmulator)."""
    recorded = read_state(port) or {}
    pid = int(recorded.get("pid", 0) or 0)
    found = running(endpoint_for(port))
    if found is not None:
        # One that does not name its checkout (an older version) is ours only when we recorded its pid.
        if not (found.ours or (found.checkout is None and pid > 0 and pid_alive(pid))):
            raise foreign(found)
        pid = found.pid or pid
    stopped = pid if pid > 0 and pid_alive(pid) and pid != os.getpid() else None
    if stopped is not None:
        terminate(stopped)
    state_file(port).unlink(missing_ok=True)
    return stopped
