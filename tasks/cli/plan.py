"""`doit plan env=ENV [format=json] [detailed=1]`: what `doit deploy` would change, step by step; no
mutating call. With `detailed=1` it exits 5 when there are changes and 0 when there are none (terraform's
-detailed-exitcode); a step it cannot read exits with that error's code either way."""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import ChangesPending, Failed, UserError, cli_action, emit


@cli_action
def _plan(command_run: args.CommandRun) -> None:
    from tasks.runner import plan_dict, plan_text, refusals

    fmt = args.output_format()
    detailed = args.flag("detailed")
    run = command_run()
    results = run.plan()
    drop = run.ctx.options.drop
    if fmt == "json":
        emit(json.dumps(plan_dict(run.config, results, drop), indent=2, default=str))
    else:
        emit(plan_text(run.config, results, drop))
    errors = [r for r in results if r.error]
    if errors:
        raise Failed(f"error: plan could not read {errors[0].name}: {errors[0].error}", errors[0].code)
    refused = refusals(results, drop)
    if refused:  # what deploy would refuse is bad input, as on deploy: exit 2
        raise UserError("\n".join(refused))
    if detailed and any(r.diff is not None and r.diff.changes for r in results):
        raise ChangesPending("")  # the plan above says what; exit 5 says that there is something


def task_plan() -> dict[str, Any]:
    """Show what `doit deploy` would change, step by step; no mutating call."""
    return {
        "doc": "Show what deploy would change (format=json; detailed=1: exit 5 on changes); no mutating call",
        "actions": [(_plan, [args.CommandRun()])],
        "uptodate": [False],
        "verbosity": 2,
    }
