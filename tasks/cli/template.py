"""`doit template env=ENV [output=PATH] [key=value ...]`: render the env's CloudFormation template.

Needs no credentials and makes no AWS call. Up to date while the template sources, the config files,
the signals' schema files and the effective config values are unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from doit.tools import config_changed

from tasks import template
from tasks.cli import args
from tasks.config import Config
from tasks.errors import UserError, cli_action, emit


@cli_action
def _refuse(message: str) -> None:
    """Bad input found while creating the task: report it when the task runs, as one line."""
    raise UserError(message)


@cli_action
def _render(config: Config, target: Path) -> None:
    path = template.write(config, target)
    emit(path)


def task_template() -> dict[str, Any]:
    """Render the env's CloudFormation template (build/ENV/template.yaml; output=PATH elsewhere)."""
    try:
        config = args.config()
        target = args.output(config)
    except UserError as exc:
        # Task creators run for every doit command: never raise here, fail when this task runs.
        return {"actions": [(_refuse, [str(exc)])], "uptodate": [False], "verbosity": 2}
    values = json.dumps({"config": config.to_dict(), "output": str(target)}, sort_keys=True)
    return {
        "actions": [(_render, [config, target])],
        "file_dep": [str(p) for p in template.input_files(config)],
        "targets": [str(target)],
        "uptodate": [config_changed(values)],
        "title": lambda task: f"template {target}",
        "clean": True,
        "verbosity": 2,
    }
