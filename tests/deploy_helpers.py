"""Helpers for the deploy/send/destroy tests: run the real doit CLI (a subprocess, or the same command line
in this process), or the steps in-process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tasks.aws import is_read
from tasks.step import Options

ROOT = Path(__file__).resolve().parent.parent
DOIT = [sys.executable, "-m", "doit"]


def doit_cli(
    emu: Any, tmp_path: Path, *args: str, stdin: Any = subprocess.DEVNULL, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`doit ARGS` as a subprocess in the repo against the test emulator, with a private dep file: for the
    one smoke test per exit path, and for what needs a process of its own (stdin, a signal, a race)."""
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


_IN_PROCESS = threading.Lock()  # one command line at a time: it sets os.environ, sys.stdout and doit's vars


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def doit(
    emu: Any, tmp_path: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`doit ARGS` against the test emulator as doit_cli() runs it (dodo.py's tasks, doit's runner and
    reporter, the exit code of the one exit-code map), in this process: no interpreter start per command.
    `env` replaces the environment as for a subprocess."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    import dodo
    from tasks.lock import release_all

    environ = dict(env) if env is not None else {**os.environ, "AWS_ENDPOINT_URL": emu.endpoint}
    if env is None:
        environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    out, err = io.StringIO(), io.StringIO()
    argv = ["--db-file", str(tmp_path / "doit-deps.json"), *args]
    argv_before = sys.argv
    with _IN_PROCESS, _environ(environ), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        sys.argv = [str(Path(sys.executable).parent / "doit"), *argv]  # what a real process sees
        try:
            code = DoitMain(ModuleTaskLoader(dodo), extra_config={"GLOBAL": {"outfile": out}}).run(argv)
        except SystemExit as exc:  # tasks/errors.py's ActionExit carries the exit code
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            release_all()  # the env locks a command holds until its process exits
            sys.argv = argv_before
    return subprocess.CompletedProcess(["doit", *argv], code, out.getvalue(), err.getvalue())


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
