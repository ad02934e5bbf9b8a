"""Shared fixtures and the tiers.

``emulator`` is one in-process local AWS per test session (per xdist worker); each test starts from a clean
emulator (``POST /_emulator/reset`` before it). ``local_config`` is the one way to a config pointed at it
(``local_config(**overrides)``), or use ``emu.client("s3")``.

Every test gets the marker of its tier from the first folder under tests/ (TIERS): ``-m unit`` and so on
select a tier; tests/unit/test_tiers.py fails if a collected test has none (docs/tests.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.testing import EmulatorHandle, in_process_emulator
from tasks.config import Config

TESTS_DIR = Path(__file__).resolve().parent

# Tests never touch real AWS, whatever the developer's shell holds.
# Nor an endpoint or a config folder the shell names: each test that wants one sets it.
for _name in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "OTLP2PIPELINE_CONFIG_DIR",
):
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


@pytest.fixture
def local_config(emulator: EmulatorHandle) -> Callable[..., Config]:
    """``local_config(**overrides)``: env local's config pointed at the clean emulator (dotted keys as
    ``local_config(**{"ingest.enabled": "false"})``)."""
    from tests.deploy_helpers import config

    return lambda **overrides: config(emulator, overrides)


# -- the order `pytest -n 2` hands tests out in ---------------------------------------------------------
#
# xdist's load scheduler sends tests to workers in collection order, by default in chunks of dozens: a long
# test collected late runs alone at the end while the other worker idles. The longest tests (the
# reliability suite, checkov and cfn-lint over every template, the docs' shell blocks) go first and, with
# one test per hand-out, the other worker keeps taking short tests while one runs a long one. Without
# xdist this only reorders.
LONGEST_FIRST = ("tests/reliability/", "tests/lint/", "tests/cli/docs/test_shell_blocks.py")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "maxschedchunk") and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1


# -- tiers: the first folder under tests/ names the tier (registered in pyproject.toml) ---------------------

TIERS: dict[str, str] = {
    "unit": "unit",  # the tool's pure parts: no local AWS, no subprocess of doit
    "lint": "lint",  # cfn-lint, checkov and parliament over the templates; the import structure
    "emulator": "emulator",  # the local AWS itself, through boto3 over HTTP
    "cli": "cli",  # the tool's commands, steps, receiver, verify/ and bench/ against the local AWS
    "reliability": "reliability",  # a failure at every write, throttling, drift, isolation
}
UNTIERED = pytest.StashKey[list[str]]()


def tier_of(item: pytest.Item) -> str | None:
    """The tier of a test by where its file lies: tests/<folder>/...; None outside every tier folder."""
    parts = Path(str(item.path)).resolve().relative_to(TESTS_DIR.parent).parts
    if len(parts) < 3 or parts[0] != TESTS_DIR.name:
        return None
    return TIERS.get(parts[1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    untiered = []
    for item in items:
        tier = tier_of(item)
        if tier is None:
            untiered.append(item.nodeid)
        else:
            item.add_marker(getattr(pytest.mark, tier))
    config.stash[UNTIERED] = untiered
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))


@pytest.fixture(scope="session")
def ingest_zip() -> Any:
    """The local env's ingest Lambda zip, built once per session (tasks/package.py caches the pip target
    under build/lambda-deps/, so only the first session on a machine pays for pip)."""
    from tasks import config, package

    return package.ensure(config.load("local"))
