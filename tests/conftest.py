"""Shared fixtures: ``emulator`` is one in-process local AWS per test session (per xdist worker).

Each test starts from a clean emulator (``POST /_emulator/reset`` before it). Point the tool at it with
``tasks.config.load("local", {"endpoint": emu.endpoint})``, or use ``emu.client("s3")``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

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


# -- the order `pytest -n 2` hands tests out in ---------------------------------------------------------
#
# xdist's load scheduler sends tests to workers in collection order, by default in chunks of dozens: a long
# test collected late runs alone at the end while the other worker idles. The longest tests (the
# reliability suite, checkov and cfn-lint over every template, the docs' shell blocks) go first and, with
# one test per hand-out, the other worker keeps taking short tests while one runs a long one. Without
# xdist this only reorders.
LONGEST_FIRST = (
    "tests/reliability/",
    "tests/unit/template/test_template_lint.py",
    "tests/cli/docs/test_shell_blocks.py",
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "maxschedchunk") and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))


@pytest.fixture(scope="session")
def ingest_zip() -> Any:
    """The local env's ingest Lambda zip, built once per session (tasks/package.py caches the pip target
    under build/lambda-deps/, so only the first session on a machine pays for pip)."""
    from tasks import config, package

    return package.ensure(config.load("local"))
