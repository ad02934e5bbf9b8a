"""`doit plan env=ENV [format=json]`: what `doit deploy` would change, step by step; no mutating call."""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import Unhealthy, UserError, cli_action, emit


@cli_action
def _plan(command_run: args.CommandRun) -> None:
    from tasks.runner import plan_dict, plan_text, refusals

    fmt = args.output_format()
    run = command_run()
    results = run.plan()
    drop = tuple(run.ctx.options.get("drop") or ())
    if fmt == "json":
        emit(json.dumps(plan_dict(run.config, results, drop), indent=2, default=str))
    else:
        emit(plan_text(run.config, results, drop))
    errors = [r for r in results if r.error]
    if errors:
        raise Unhealthy(f"error: plan could not read {errors[0].name}: {errors[0].error}")
    refused = refusals(results, drop)
    if refused:  # what deploy would refuse is bad input, as on deploy: exit 2
        raise UserError("\n".join(refused))


def task_plan() -> dict[str, Any]:
    """Show what `doit deploy` would change, step by step; no mutating call."""
    return {
        "doc": "Show what deploy would change (format=json for JSON); no mutating call",
        "actions": [(_plan, [args.CommandRun()])],
        "uptodate": [False],
        "verbosity": 2,
    }
