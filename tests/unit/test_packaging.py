"""The layout the user asked for, doit's settings, and the README's promises."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOIT = [sys.executable, "-m", "doit"]
USER_TASKS = (
    "template",
    "plan",
    "deploy",
    "status",
    "send",
    "destroy",
    "doctor",
    "query",
    "tables",
    "emulator",
    "emulator_stop",
    "ingest",
    "ingest_stop",
)


def test_dodo_only_gathers_task_creators() -> None:
    """dodo.py holds imports and DOIT_CONFIG, no task logic of its own."""
    tree = ast.parse((ROOT / "dodo.py").read_text())
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == []


def test_doit_list_shows_every_user_task_with_a_description() -> None:
    out = subprocess.run([*DOIT, "list"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for name in USER_TASKS:
        assert name in listed, f"`doit list` lacks {name}: {out}"
        assert len(listed[name].split(None, 1)) == 2, f"{name} has no description"
    # Helper tasks (deploy's steps) stay hidden.
    assert not any(":" in name for name in listed)


def test_doit_config_has_defaults_parallelism_and_per_env_dep_file() -> None:
    import importlib

    sys.path.insert(0, str(ROOT))
    dodo = importlib.import_module("dodo")
    cfg = dodo.DOIT_CONFIG
    assert cfg["default_tasks"]
    assert cfg["num_process"] > 1 and cfg["par_type"] == "thread"
    assert Path(cfg["dep_file"]).name == "local.json"


def test_readme_opens_with_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    assert len(blocks) == 2
    assert "pip install -e ." in blocks[0] and "doit deploy" in blocks[0]
    assert "[test]" in blocks[1] and "pytest" in blocks[1]


def test_gitignore_covers_build_state_and_venvs() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    for pattern in ("build/", ".doit/", ".emulator/", ".venv*/"):
        assert pattern in ignored


def test_runtime_dependencies_are_pinned_and_moto_exactly() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert "==" in dep, f"{dep} is not pinned"
    assert "moto[server]==5.2.5" in project["dependencies"]
