"""Helpers for the deploy/send/destroy tests: run the real doit CLI, or the steps in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tasks.aws import is_read
from tasks.step import Options

ROOT = Path(__file__).resolve().parent.parent
DOIT = [sys.executable, "-m", "doit"]


def doit(
    emu: Any, tmp_path: Path, *args: str, stdin: Any = subprocess.DEVNULL, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`doit ARGS` in the repo against the test emulator, with a private dep file."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": emu.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [*DOIT, "--db-file", str(tmp_path / "doit-deps.json"), *args]
    return subprocess.run(
        cmd, cwd=ROOT, env=env, stdin=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def config(emu: Any, overrides: dict[str, str] | None = None) -> Any:
    from tasks.config import load

    return load("local", {"endpoint": emu.endpoint, **(overrides or {})})


def run(
    emu: Any,
    overrides: dict[str, str] | None = None,
    *,
    include_checks: bool = False,
    options: Options | None = None,
) -> Any:
    from tasks.runner import Run

    return Run(config(emu, overrides), options, include_checks=include_checks)


def deploy(emu: Any, overrides: dict[str, str] | None = None) -> Any:
    """Deploy in-process (same steps as `doit deploy`, one thread); returns the Run."""
    r = run(emu, overrides)
    r.deploy_sequential()
    return r


def mutating(emu: Any) -> dict[str, int]:
    return {
        f"{c['service']}:{c['operation']}": c["count"] for c in emu.calls() if not is_read(c["operation"])
    }


def total_calls(emu: Any) -> int:
    return sum(c["count"] for c in emu.calls())
