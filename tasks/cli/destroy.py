"""`doit destroy env=ENV [force=1]`: delete the env; the account-level setup is kept (tasks/destroy.py)."""

from __future__ import annotations

import sys
from typing import Any

from tasks.cli import args
from tasks.errors import cli_action


@cli_action
def _destroy() -> None:
    from tasks.destroy import destroy
    from tasks.lock import hold
    from tasks.step import Context

    config = args.config()
    force = args.flag("force")
    from tasks.aws import Clients

    clients = Clients(config)
    hold(config, "destroy", clients.account_id)
    code = destroy(Context(config, clients), force)
    if code:
        sys.exit(code)


def task_destroy() -> dict[str, Any]:
    """Delete the env (streams, stack, tables and data, error objects); account setup is kept."""
    return {
        "doc": "Delete env=ENV (force=1 without a terminal); keeps the account-level setup",
        "actions": [_destroy],
        "uptodate": [False],
        "verbosity": 2,
    }
