"""Shared by test_local_checkout*.py and test_receiver_leftovers.py: env local's own port moved to a test
emulator, and a doit command's variables for an action run in-process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from doit import doit_cmd

from tests.deploy_helpers import ROOT


def own_port_config(tmp_path: Path, endpoint: str) -> Path:
    """A copy of config/ whose env `local` names `endpoint` as its own (as config/envs/local.yaml names
    4566): an endpoint from the env's file, not one the user named."""
    conf = tmp_path / "config"
    shutil.copytree(ROOT / "config", conf)
    local = conf / "envs" / "local.yaml"
    text = local.read_text()
    assert "endpoint: http://127.0.0.1:4566\n" in text
    local.write_text(text.replace("endpoint: http://127.0.0.1:4566\n", f"endpoint: {endpoint}\n"))
    return conf


@contextmanager
def doit_vars(**given: str) -> Iterator[None]:
    """The `key=value` variables of one doit command line, for an action run in-process."""
    doit_cmd.reset_vars()
    for key, value in given.items():
        doit_cmd.set_var(key, value)
    try:
        yield
    finally:
        doit_cmd._CMDLINE_VARS = None
