"""Shared fixtures: ``emulator`` is one in-process local AWS per test session (per xdist worker).

Each test starts from a clean emulator (``POST /_emulator/reset`` before it). Point the tool at it with
``tasks.config.load("local", {"endpoint": emu.endpoint})``, or use ``emu.client("s3")``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from emulator.testing import EmulatorHandle, in_process_emulator

# Tests never touch real AWS, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[EmulatorHandle]:
    with in_process_emulator(prefix="emulator-test-") as handle:
        yield handle


@pytest.fixture
def emulator(_emulator_server: EmulatorHandle) -> EmulatorHandle:
    """A clean, running emulator (state wiped before each test)."""
    _emulator_server.reset()
    return _emulator_server
