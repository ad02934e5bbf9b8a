"""Regions and partitions: where Firehose has no Iceberg destination, the tool refuses the region before any
call and the local AWS refuses the stream; everywhere, every ARN is in the region's partition
(aws-facts.md, "Regions")."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks import config as cfg
from tasks.errors import EXIT_USAGE
from tests.cli import verify_helpers as vh
from tests.unit.lake.test_regions import REFUSED
from tests.unit.tasks.template.helpers import no_credentials_env, recording_endpoint, run_doit

# -- the tool: refused before any call -----------------------------------------------------------------


@pytest.mark.parametrize("region", REFUSED)
def test_doit_refuses_the_region_with_exit_2_and_no_connection(tmp_path: Any, region: str) -> None:
    with recording_endpoint() as endpoint:
        proc = run_doit(
            tmp_path,
            ["env=prod", f"region={region}", f"output={tmp_path / 'out.yaml'}"],
            no_credentials_env(endpoint.url),
        )
        assert endpoint.connections == []
    assert proc.returncode == EXIT_USAGE, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: region={region!r} is not supported: ")
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize("command", ["deploy", "doctor", "plan"])
def test_deploy_doctor_and_plan_name_the_region_and_call_nothing(emulator: Any, command: str) -> None:
    emulator.reset_calls()
    proc = vh.doit(emulator, command, "env=local", "region=cn-north-1")
    assert proc.returncode == EXIT_USAGE, proc.stdout + proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert line.startswith("error: region='cn-north-1' is not supported: "), line
    assert emulator.calls() == []


def test_verify_names_the_region_and_calls_nothing(emulator: Any, tmp_path: Path) -> None:
    """verify reads the same rule: an env file in a refused region is a usage error before any call."""
    config_dir = tmp_path / "config"
    shutil.copytree(cfg.ROOT / "config", config_dir, ignore=shutil.ignore_patterns("schemas"))
    (config_dir / "envs" / "gov.yaml").write_text("region: us-gov-west-1\n")
    emulator.reset_calls()
    env = {**vh.cli_env(emulator), cfg.CONFIG_DIR_VAR: str(config_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "verify/", "--env", "gov", "-p", "no:cacheprovider", "-q"],
        cwd=cfg.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "error: region='us-gov-west-1' is not supported: " in proc.stderr, proc.stderr
    assert emulator.calls() == []
