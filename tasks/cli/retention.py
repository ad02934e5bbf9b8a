"""`doit retention env=ENV [dry_run=1] [format=json]`: drop the days outside each table's window, now.

The same run the env's retention function makes every day (retention/run.py), with the caller's
credentials: one metadata-only delete commit per table that holds days older than its window, its figures
printed and published to CloudWatch (`otlp2pipeline/Retention`). `dry_run=1` reads the same and prints
what it would drop, with no commit and no metric. An env without any window is refused before any call.
"""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import StepFailed, cli_action, emit


@cli_action
def _retention() -> None:
    from tasks import retention
    from tasks.aws import Clients

    config = args.config()
    dry_run = args.flag("dry_run")
    fmt = args.output_format()
    retention.windows(config)  # refused before any AWS call
    quiet = fmt == "json"
    report = retention.run(Clients(config), dry_run=dry_run, say=(lambda _line: None) if quiet else emit)
    if quiet:
        emit(json.dumps(report.to_dict(), indent=2))
    if report.failed:
        raise StepFailed(f"error: {report.summary()}")


def task_retention() -> dict[str, Any]:
    """Drop the rows of whole UTC days older than each table's window (retention_days)."""
    return {
        "doc": "Drop the days older than each table's window of env=ENV (retention_days); dry_run=1 shows",
        "actions": [_retention],
        "uptodate": [False],
        "verbosity": 2,
    }
