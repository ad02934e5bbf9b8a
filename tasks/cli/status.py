"""`doit status env=ENV [format=json]`: every deployed item with its drift; exit 1 when unhealthy."""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import Failed, Unhealthy, cli_action, emit


@cli_action
def _status(command_run: args.CommandRun) -> None:
    from tasks.runner import status_report, status_text

    fmt = args.output_format()
    run = command_run()
    results = [run.evaluate(name) for name in run.steps]
    report = status_report(run.config, run, results)
    from tasks.cli.ingest import receiver_line, receiver_status

    report.receiver = receiver_status(run.config)  # shown, not part of health
    from tasks.query import env_tables
    from tasks.steps import kept_tables
    from tasks.table_facts import freshness

    kept = run.results.get(kept_tables.NAME)  # its ListTables already named the env's tables
    listed = kept.diff.observed.tables if kept is not None and kept.diff is not None else None
    names = env_tables(run.config, listed) if listed is not None else None
    report.freshness = freshness(run.ctx.clients, run.config, names)  # one read per table; never unhealthy
    emit(json.dumps(report.to_dict(), indent=2, default=str) if fmt == "json" else status_text(report))
    if fmt != "json":
        emit(receiver_line(report.receiver, run.config.env))
    errors = [r for r in results if r.error]
    if errors:  # an item it could not read: that error's code (4 for AWS), not "drift"
        raise Failed(f"error: status could not read {errors[0].name}: {errors[0].error}", errors[0].code)
    if not report.healthy:
        raise Unhealthy(f"status env={run.config.env}: unhealthy")


def task_status() -> dict[str, Any]:
    """Every deployed item with its drift; exits non-zero when anything differs from the config."""
    return {
        "doc": "Show every item of the env with drift (format=json); exit 1 when unhealthy",
        "actions": [(_status, [args.CommandRun(include_checks=True)])],
        "uptodate": [False],
        "verbosity": 2,
    }
