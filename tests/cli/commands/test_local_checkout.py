"""The local AWS belongs to its checkout: a command refuses another checkout's emulator on the env's own
port, before any AWS call, and uses one on a port the user names with a note.

Here the test emulator runs from this checkout, and the tool is told it runs from another one
(``emulator_ctl.REPO_ROOT``): the emulator's health answer, read over HTTP, is what the tool judges by.
tests/cli/commands/test_local_checkout_cli.py does the same with a real second checkout and the real CLI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from emulator.core import state
from tasks import emulator_ctl
from tasks.aws import Clients
from tasks.cli import emulator as emulator_cli
from tasks.config import CONFIG_DIR_VAR, load
from tasks.errors import EXIT_USAGE, describe
from tests.cli.checkout_helpers import doit_vars, own_port_config
from tests.deploy_helpers import ROOT


@pytest.fixture
def own_port(emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test emulator is on env local's own port."""
    monkeypatch.setenv(CONFIG_DIR_VAR, str(own_port_config(tmp_path, emulator.endpoint)))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return emulator


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tool runs from another checkout than the emulator."""
    other = tmp_path / "other-checkout"
    other.mkdir()
    monkeypatch.setattr(emulator_ctl, "REPO_ROOT", other)
    return other


def test_this_checkouts_emulator_is_used_without_a_word(own_port: Any, capsys: Any) -> None:
    own_port.reset_calls()
    clients = Clients(load("local"))
    assert clients.account_id == own_port.account_id
    assert capsys.readouterr().err == ""


def test_another_checkouts_emulator_on_the_envs_port_is_refused_before_any_call(
    own_port: Any, elsewhere: Path, capsys: Any
) -> None:
    own_port.reset_calls()
    with pytest.raises(emulator_ctl.ForeignEmulator) as refused:
        Clients(load("local"))
    message, code = describe(refused.value)
    assert code == EXIT_USAGE
    assert "\n" not in message
    port = own_port.endpoint.rsplit(":", 1)[1]
    assert message.startswith(f"error: the local AWS on 127.0.0.1:{port} belongs to checkout {ROOT} (pid ")
    assert f"not to this one ({elsewhere})" in message
    assert "stop it there with `doit emulator_stop`" in message
    assert "`endpoint=http://127.0.0.1:PORT`" in message and "`doit emulator port=PORT`" in message
    assert own_port.calls() == []  # no AWS call reached it


def test_an_endpoint_on_another_port_is_used_as_told_with_a_note(
    emulator: Any, elsewhere: Path, capsys: Any
) -> None:
    """config/envs/local.yaml names 4566; endpoint= naming another port is the user's choice."""
    clients = Clients(load("local", {"endpoint": emulator.endpoint}))
    assert clients.account_id == emulator.account_id
    err = capsys.readouterr().err
    port = emulator.endpoint.rsplit(":", 1)[1]
    assert err.startswith(f"note: the local AWS on 127.0.0.1:{port} belongs to checkout {ROOT} (pid ")
    assert "used because endpoint= names it: the two checkouts share its state" in err


def test_doit_emulator_and_emulator_stop_refuse_another_checkouts(own_port: Any, elsewhere: Path) -> None:
    port = emulator_ctl.port_of(own_port.endpoint)
    with pytest.raises(emulator_ctl.ForeignEmulator, match=f"belongs to checkout {ROOT}"):
        emulator_ctl.start(port)
    with pytest.raises(emulator_ctl.ForeignEmulator, match=f"belongs to checkout {ROOT}"):
        emulator_ctl.stop(port)
    assert own_port.is_healthy()


def test_a_bare_emulator_stop_leaves_another_checkouts_running_with_a_line(
    own_port: Any, elsewhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`doit emulator_stop` stops this checkout's emulators: another's on the default port is no error."""
    port = emulator_ctl.port_of(own_port.endpoint)
    monkeypatch.setattr(emulator_ctl, "DEFAULT_PORT", port)  # the test emulator plays 4566
    monkeypatch.setattr(emulator_ctl, "STATE_DIR", tmp_path / "state")
    monkeypatch.setattr(emulator_ctl, "STATE_FILE", tmp_path / "state" / "state.json")
    with doit_vars():
        emulator_cli._stop.__wrapped__()  # type: ignore[attr-defined]
    assert capsys.readouterr().out.splitlines() == [
        f"left running: the local AWS on 127.0.0.1:{port} belongs to checkout {ROOT} (pid {os.getpid()}, "
        f"data {own_port.data_dir.resolve()}), not to this one ({elsewhere})",
        "no emulator was running",
    ]
    with doit_vars(port=str(port)), pytest.raises(emulator_ctl.ForeignEmulator):
        emulator_cli._stop.__wrapped__()  # type: ignore[attr-defined]  # named: refused
    assert own_port.is_healthy()


def test_an_emulator_that_does_not_name_its_checkout_is_not_taken_for_ours(
    own_port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An emulator of an older version answers health with its status alone."""
    monkeypatch.setattr(emulator_ctl.AdminClient, "health", lambda self, timeout=None: {"status": "ok"})
    with pytest.raises(emulator_ctl.ForeignEmulator, match="does not say which checkout started it"):
        Clients(load("local"))


def test_each_port_has_its_own_data_dir_under_the_checkout() -> None:
    """An emulator empties its data dir on start: two on one checkout never share one."""
    assert state.default_data_dir(4566) == ROOT / ".emulator" / "data"
    assert state.default_data_dir(4670) == ROOT / ".emulator" / "data-4670"
