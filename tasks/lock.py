"""One deploy or destroy per env at a time on this machine: an advisory file lock under build/ENV/
(one per account, region and endpoint the env is aimed at).

Without it, two `doit deploy` runs of one env race on every create (CreateRole, the stack's change set,
CreateDeliveryStream) and both can lose a different race, leaving the env half-done. With it, the second
run stops before any AWS call with a message naming the first (pid, command, start time), and the first
converges the env.

Why a file lock (flock) and not a lock in AWS: the OS releases it when the holding process dies, however
it dies, so there is never a stale lock to break by hand; it costs no AWS call, so a no-op deploy still
makes zero writes; and it needs nothing that exists before the first deploy. Across machines (two laptops,
a laptop and CI) it does not help: there AWS's own conflict answers (EntityAlreadyExists, a stack already
being created or updated, ResourceInUseException, a stale Firehose VersionId) make the loser fail naming
its step, and re-running converges. Serialise CI deploys with the CI's concurrency group.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from tasks.config import Config
from tasks.errors import StepFailed
from tasks.polling import backoff_delays, poll_until

LOCK_NAME = "deploy.lock"

# Locks this process holds, by path: held until the process exits (the OS releases them then).
_held: dict[str, IO[str]] = {}


class EnvLocked(StepFailed):
    """Another deploy/destroy of the same env runs on this machine."""


def lock_path(config: Config, account_id: str) -> Path:
    """One lock per env, account, region and endpoint: the same env name aimed at another account or
    another local emulator (tests run one per worker) is another env."""
    target = f"{account_id}-{config.region}"
    if config.endpoint:
        target += "-" + hashlib.sha256(config.endpoint.encode()).hexdigest()[:10]
    return config.build_dir / f"{LOCK_NAME.removesuffix('.lock')}-{target}.lock"


def _holder(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def hold(config: Config, command: str, account_id: str) -> Path:
    """Take the env's lock for the rest of this process, or raise EnvLocked naming the holder.

    Idempotent within a process (doit's deploy subtasks all pass through here once).
    """
    path = lock_path(config, account_id)
    key = str(path)
    if key in _held:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        # The holder writes who it is right after locking: give it a moment (a bounded backoff) to do so.
        who, _ = poll_until(lambda: _holder(path), bool, backoff_delays(2.0, first=0.02, cap=0.5))
        since = who.get("started")
        started = time.strftime("%H:%M:%S", time.localtime(since)) if isinstance(since, int | float) else "?"
        command = f"doit {who.get('command', '?')} env={config.env}"
        raise EnvLocked(
            f"error: env {config.env} is locked: `{command}` is running on this machine "
            f"(pid {who.get('pid', '?')}, started {started}); nothing was changed: wait for it to finish, "
            f"then run this again (lock file {path})"
        ) from None
    handle.seek(0)
    handle.truncate()
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "started": time.time()}
    handle.write(json.dumps(me))
    handle.flush()
    _held[key] = handle
    return path


def release(config: Config, account_id: str) -> None:
    """Let go early (tests; the process exit releases it otherwise)."""
    handle = _held.pop(str(lock_path(config, account_id)), None)
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def release_all() -> None:
    """Let go of every lock this process holds, as its exit would (a command run in-process, in tests)."""
    while _held:
        _, handle = _held.popitem()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
