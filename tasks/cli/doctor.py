"""`doit doctor env=ENV`: check each cause of the bash scripts' Troubleshooting section and print the fix.

Read-only. Exits 0 when every check is OK, 1 when a cause is found (the fix is printed with it),
2 for bad input (one line, before any AWS call). See tasks/doctor/.
"""

from __future__ import annotations

from typing import Any

from tasks.cli import args
from tasks.errors import Unhealthy, cli_action


@cli_action
def _doctor() -> None:
    from tasks import doctor  # boto3 and the steps load only when the task runs

    cfg = args.config()  # UserError (exit 2) before any AWS call
    findings = doctor.run(cfg, args.overrides())
    bad = [f for f in findings if not f.ok]
    if bad:
        raise Unhealthy(f"doctor: {len(bad)} cause(s) found in env {cfg.env}; run the fix shown with each")


def task_doctor() -> dict[str, Any]:
    """Check every cause the bash scripts' troubleshooting lists; print OK or the cause and the fix."""
    return {
        "doc": "Diagnose an env: each troubleshooting cause, OK or the fix to run (read-only)",
        "actions": [_doctor],
        "uptodate": [False],  # a live check every time
        "verbosity": 2,
    }
