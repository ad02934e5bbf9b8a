"""Isolated installs of test tools whose pins clash with the runtime's (checkov pins an older boto3).

Each tool gets its own virtualenv under build/tools/NAME, created on first use. A file lock makes
the install safe under pytest-xdist (several workers may ask at once) and a marker file makes it
idempotent: the second call is a stat, not a pip run.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / "build" / "tools"

CHECKOV_VERSION = "3.3.30"


class ToolInstallError(RuntimeError):
    pass


def _ensure_venv(name: str, requirement: str, executable: str) -> Path:
    """Return the path of `executable` inside build/tools/NAME, installing `requirement` once."""
    home = TOOLS_DIR / name
    exe = home / "bin" / executable
    marker = home / ".installed.json"
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    lock_path = TOOLS_DIR / f"{name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        try:
            if (
                marker.exists()
                and exe.exists()
                and json.loads(marker.read_text()).get("requirement") == requirement
            ):
                return exe
        except (OSError, ValueError):
            pass
        if not (home / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(home)
        proc = subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", requirement],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not exe.exists():
            raise ToolInstallError(
                f"installing {requirement} into {home} failed:\n{proc.stdout}\n{proc.stderr}"
            )
        marker.write_text(json.dumps({"requirement": requirement}))
        return exe


def checkov() -> Path:
    """Path to a checkov executable pinned at CHECKOV_VERSION, in its own virtualenv."""
    return _ensure_venv("checkov", f"checkov=={CHECKOV_VERSION}", "checkov")


if __name__ == "__main__":  # `python -m tests.lint.tools` pre-installs the tools (CI can do it up front)
    print(checkov())
    sys.exit(0)
