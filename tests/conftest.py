"""Shared fixtures: ``emulator`` is one in-process local AWS per test session (per xdist worker).

Each test starts from a clean emulator (``POST /_emulator/reset`` before it). Point the tool at it with
``tasks.config.load("local", {"endpoint": emu.endpoint})``, or use ``emu.client("s3")``.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

# Tests never touch real AWS, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class EmulatorHandle:
    """What the ``emulator`` fixture yields: the endpoint and the admin API as methods."""

    account_id = "123456789012"
    region = "us-east-1"

    def __init__(self, endpoint: str, data_dir: Path) -> None:
        self.endpoint = endpoint
        self.data_dir = data_dir

    def _admin(self, method: str, route: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"{self.endpoint}/_emulator/{route}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"{}")

    def reset(self) -> None:
        self._admin("POST", "reset")

    def calls(self) -> list[dict[str, Any]]:
        """``[{"service", "operation", "count"}]`` since the last reset."""
        return list(self._admin("GET", "calls")["calls"])

    def call_count(self, service: str, operation: str) -> int:
        return sum(
            c["count"] for c in self.calls() if c["service"] == service and c["operation"] == operation
        )

    def reset_calls(self) -> None:
        self._admin("POST", "calls/reset")

    def flush(self) -> dict[str, int]:
        return dict(self._admin("POST", "flush"))

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        return dict(self._admin("POST", "faults", faults))

    def faults(self) -> dict[str, Any]:
        return dict(self._admin("GET", "faults"))

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def set_identity(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The caller becomes an assumed role (``role_path``, ``role_name``, ``session``, ``denied``)."""
        return dict(self._admin("POST", "identity", spec))

    def clear_identity(self) -> None:
        self._admin("DELETE", "identity")

    def set_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``POST /_emulator/options`` (reset returns them to the start-up values)."""
        return dict(self._admin("POST", "options", options)["options"])

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for the emulator (standard retry mode unless ``retries=`` says otherwise)."""
        cfg = BotoConfig(retries=config.pop("retries", {"mode": "standard", "max_attempts": 10}), **config)
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=cfg,
        )


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[EmulatorHandle]:
    from emulator.core.server import EmulatorServer

    with tempfile.TemporaryDirectory(prefix="emulator-test-") as tmp:
        server = EmulatorServer(port=0, data_dir=Path(tmp) / "data").start()
        try:
            yield EmulatorHandle(server.endpoint, server.data_dir)
        finally:
            server.stop()


@pytest.fixture
def emulator(_emulator_server: EmulatorHandle) -> EmulatorHandle:
    """A clean, running emulator (state wiped before each test)."""
    _emulator_server.reset()
    return _emulator_server


@pytest.fixture(scope="session")
def ingest_zip() -> Any:
    """The local env's ingest Lambda zip, built once per session (tasks/package.py caches the pip target
    under build/lambda-deps/, so only the first session on a machine pays for pip)."""
    from tasks import config, package

    return package.ensure(config.load("local"))
