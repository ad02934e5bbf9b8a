"""`doit plan env=ENV [format=json]`: what `doit deploy` would change, step by step; no mutating call."""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import Unhealthy, cli_action, emit


@cli_action
def _plan(command_run: args.CommandRun) -> None:
    from tasks.runner import plan_dict, plan_text

    fmt = args.output_format()
    run = command_run()
    results = run.plan()
    if fmt == "json":
        emit(json.dumps(plan_dict(run.config, results), indent=2, default=str))
    else:
        emit(plan_text(run.config, results))
    errors = [r for r in results if r.error]
    if errors:
        raise Unhealthy(f"error: plan could not read {errors[0].name}: {errors[0].error}")


def task_plan() -> dict[str, Any]:
    """Show what `doit deploy` would change, step by step; no mutating call."""
    return {
        "doc": "Show what deploy would change (format=json for JSON); no mutating call",
        "actions": [(_plan, [args.CommandRun()])],
        "uptodate": [False],
        "verbosity": 2,
    }
