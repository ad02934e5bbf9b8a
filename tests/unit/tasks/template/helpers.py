"""Helpers for the config and template tests: run `doit template` as a user would, and prove that no
AWS call was made (a local socket that records every connection stands in for the endpoint)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
DOIT = [sys.executable, "-m", "doit"]


@dataclass
class RecordingEndpoint:
    """A TCP listener on 127.0.0.1 that counts connections: any AWS call would connect here."""

    sock: socket.socket
    connections: list[tuple[str, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except TimeoutError:
                continue  # wake up to notice _stop: close() does not interrupt accept()
            except OSError:
                return
            self.connections.append(addr)
            conn.close()


@contextmanager
def recording_endpoint() -> Iterator[RecordingEndpoint]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.05)
    endpoint = RecordingEndpoint(sock)
    thread = threading.Thread(target=endpoint._serve, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint._stop.set()
        thread.join(timeout=5)
        sock.close()


def no_credentials_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of a user with no AWS credentials at all, pointed at `endpoint`."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "OTLP2PIPELINE_CONFIG_DIR"
    }
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_doit(tmp: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`doit template ARGS` with `env` as the whole environment, its own dep file under tmp: the command
    line run in-process (tests/deploy_helpers.py doit())."""
    from tests.deploy_helpers import doit

    return doit(None, tmp, "template", *args, env=env)
