"""`doit connect env=ENV [show=1] [format=json]`: the endpoint, SDK variables and a Collector exporter block.

Read-only: one DescribeStacks, plus one GetSecretValue for token auth. The token is masked unless `show=1`
(a note on stderr says how to show it), so a pasted terminal or a CI log never carries it by accident.
"""

from __future__ import annotations

import json
from typing import Any

from doit import get_var

from tasks.config import from_doit_vars
from tasks.errors import UserError, cli_action, emit, eprint

FORMATS = ("text", "json")


def _show() -> bool:
    raw = str(get_var("show", "0") or "0").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no", ""):
        return False
    raise UserError(f"error: show={raw!r} is invalid: must be 1 or 0")


def _fmt() -> str:
    fmt = str(get_var("format", "text") or "text")
    if fmt not in FORMATS:
        raise UserError(f"error: format={fmt!r} is invalid: must be one of {', '.join(FORMATS)}")
    return fmt


@cli_action
def _connect() -> None:
    from tasks import connect
    from tasks.aws import Clients

    fmt, show = _fmt(), _show()  # bad input: exit 2 before any AWS call
    config = from_doit_vars()
    if not connect.ingest_enabled(config):
        connect.read(config, None)  # raises the one-line UserError, no call made
    conn = connect.read(config, Clients(config))
    if fmt == "json":
        emit(json.dumps(connect.document(conn, show), indent=2))
    else:
        emit(connect.text(conn, show))
    if conn.token is not None and not show:
        eprint(f"note: the token is masked; run `doit connect env={config.env} show=1` to print it")


def task_connect() -> dict[str, Any]:
    """What to paste into an SDK's environment or a Collector config to send to the env's endpoint."""
    return {
        "doc": "Print the env's OTLP endpoint, SDK variables and Collector exporter (show=1 format=json)",
        "actions": [_connect],
        "uptodate": [False],
        "verbosity": 2,
    }
