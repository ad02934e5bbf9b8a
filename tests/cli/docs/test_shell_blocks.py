"""Every `bash` block of README.md and docs/ runs as pasted on env `local` (docs/architecture.md, "Shell
blocks in these docs").

One checkout for the module: a copy of this one in a temporary directory (its own `.doit/`, `.emulator/`
and `build/`; `.venv` links to this interpreter's venv, `build/lambda-deps` to this checkout's wheel cache).
Its env `local` names free ports for the local AWS and the receiver, and the blocks' default ports become
those. The copy's local AWS is started and env `local` deployed with ten test records, as the quick start
leaves it; then each block runs in document order under `bash -e -o pipefail`, in a shell with the venv
enabled and no AWS variables. A block that destroys the env or stops the local AWS is followed by a deploy.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docs_blocks import ROOT, Block, quick_start, shell_blocks

DEFAULT_PORTS = (4566, 4567, 4318)  # the local AWS's, a second checkout's, the receiver's
IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", "build", ".doit", ".emulator", "__pycache__", "*.egg-info", ".*_cache", "plan.json"
)
RESETS = re.compile(r"\bdoit (destroy|emulator_stop)\b")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Checkout:
    root: Path
    ports: dict[int, int]  # a default port -> this checkout's

    def env(self) -> dict[str, str]:
        venv_bin = str(Path(sys.prefix) / "bin")
        dropped = ("AWS_", "OTLP2PIPELINE_", "VIRTUAL_ENV")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        return {**keep, "PATH": f"{venv_bin}:{keep.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}

    def text(self, block: Block) -> str:
        text = block.text
        for default, port in self.ports.items():
            text = re.sub(rf"\b{default}\b", str(port), text)
        return text

    def bash(self, script: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    root = tmp_path_factory.mktemp("checkout") / "otlp2pipeline"
    shutil.copytree(ROOT, root, ignore=IGNORED, symlinks=True)
    (root / ".venv").symlink_to(Path(sys.prefix))
    (ROOT / "build" / "lambda-deps").mkdir(parents=True, exist_ok=True)
    (root / "build").mkdir()
    (root / "build" / "lambda-deps").symlink_to(ROOT / "build" / "lambda-deps")
    ports = {default: _free_port() for default in DEFAULT_PORTS}
    local = root / "config" / "envs" / "local.yaml"
    text = local.read_text().replace("127.0.0.1:4566", f"127.0.0.1:{ports[4566]}")
    local.write_text(f"{text}ingest:\n  port: {ports[4318]}\n")
    co = Checkout(root, ports)
    try:
        _deploy(co)
        yield co
    finally:
        co.bash("doit ingest_stop || true; doit emulator_stop || true", timeout=120)


def _deploy(co: Checkout) -> None:
    """What the quick start leaves: env local deployed on this checkout's local AWS, ten records sent."""
    proc = co.bash("doit deploy env=local && doit send env=local count=10")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_every_local_shell_block_runs_as_pasted(checkout: Checkout) -> None:
    runnable = [b for b in shell_blocks() if not quick_start(b) and not b.real_account]
    assert len(runnable) >= 10, [b.where for b in runnable]
    failed = []
    for block in runnable:
        started = time.monotonic()
        proc = checkout.bash(checkout.text(block))
        print(f"{block.where}: exit {proc.returncode} in {time.monotonic() - started:.1f} s")
        if proc.returncode != 0:
            failed.append(
                f"--- {block.where} exited {proc.returncode}:\n{block.text}"
                f"stdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-1500:]}"
            )
        if RESETS.search(block.text):
            _deploy(checkout)
    assert not failed, "\n".join(failed)
