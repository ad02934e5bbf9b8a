"""The background OTLP receiver of this checkout (`doit ingest`): its state file, its health, stopping it.

Its pid, port, env, the AWS endpoint it sends to and its token are kept in ``.emulator/ingest.json`` (mode
0600), its log in ``.emulator/ingest.log``. `doit ingest` writes them; `doit status` reads its counts,
`pytest verify/ --ingest URL` its token (when URL is its endpoint), and `doit emulator_stop` and
`doit destroy` stop it: after them it could only answer 503.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tasks.config import configured_endpoint
from tasks.emulator_ctl import LOOPBACK_HOSTS, REPO_ROOT, pid_alive, terminate

STATE_DIR_VAR = "OTLP2PIPELINE_INGEST_DIR"  # tests keep their receiver's state apart
HEALTH_PATH = "/_ingest/health"


@dataclass(frozen=True)
class Stopped:
    env: str
    pid: int


def state_dir() -> Path:
    override = os.environ.get(STATE_DIR_VAR)
    return Path(override) if override else REPO_ROOT / ".emulator"


def state_file() -> Path:
    return state_dir() / "ingest.json"


def log_file() -> Path:
    return state_dir() / "ingest.log"


def read_state() -> dict[str, Any] | None:
    """The running receiver's record, or None when none runs (no record, or its process is gone)."""
    try:
        data = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and pid_alive(int(data.get("pid", 0) or 0)) else None


def write_state(doc: dict[str, Any]) -> None:
    """The record, readable by its owner only (it holds the token) from before its first byte."""
    path = state_file()
    path.write_text("")
    path.chmod(0o600)
    path.write_text(json.dumps(doc))


def health(endpoint: str, token: str | None = None) -> dict[str, Any] | None:
    """The receiver's health document; its counts only come with the token (when one is set)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(endpoint.rstrip("/") + HEALTH_PATH, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            doc = json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return doc if isinstance(doc, dict) and doc.get("status") == "ok" else None


def same_endpoint(a: str, b: str) -> bool:
    """One address: the same scheme and port, and the same host (any loopback name for a loopback one)."""
    pa, pb = urlparse(a.rstrip("/")), urlparse(b.rstrip("/"))
    if (pa.scheme, pa.port) != (pb.scheme, pb.port):
        return False
    loopback = ("0.0.0.0", *LOOPBACK_HOSTS)
    return pa.hostname == pb.hostname or (pa.hostname in loopback and pb.hostname in loopback)


def token_for(url: str) -> str | None:
    """The token of this checkout's running receiver when `url` is its endpoint, else None."""
    state = read_state()
    if state is None or not same_endpoint(url, str(state.get("endpoint", ""))):
        return None
    token = state.get("token")
    return str(token) if token else None


def stop() -> Stopped | None:
    """Stop the receiver recorded in the state file; what was stopped, or None when none ran."""
    state = read_state()
    state_file().unlink(missing_ok=True)
    if state is None:
        return None
    terminate(int(state["pid"]))
    return Stopped(str(state.get("env")), int(state["pid"]))


def _aws_endpoint(state: dict[str, Any]) -> str | None:
    """The endpoint the receiver sends to (None: AWS itself); a record from before it was kept: its env's."""
    aws = state["aws_endpoint"] if "aws_endpoint" in state else configured_endpoint(str(state.get("env")))
    return str(aws) if aws else None


def stop_env(env: str, aws_endpoint: str | None) -> Stopped | None:
    """Stop the receiver of `env` on `aws_endpoint` (`doit destroy env=ENV`: its streams are gone)."""
    state = read_state()
    if state is None or state.get("env") != env:
        return None
    theirs = _aws_endpoint(state)
    if theirs is None or aws_endpoint is None:
        return stop() if theirs == aws_endpoint else None
    return stop() if same_endpoint(theirs, aws_endpoint) else None


def stop_sending_to(endpoints: list[str]) -> Stopped | None:
    """Stop the receiver whose AWS endpoint is one of `endpoints` (`doit emulator_stop`)."""
    state = read_state()
    if state is None:
        return None
    aws = _aws_endpoint(state)
    if aws is None or not any(same_endpoint(aws, e) for e in endpoints):
        return None
    return stop()
