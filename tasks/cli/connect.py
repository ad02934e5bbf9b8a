"""`doit connect env=ENV [show=1] [format=json]`: the endpoint, SDK variables and a Collector exporter block.

Read-only: one DescribeStacks, plus one GetSecretValue for token auth. The token is masked unless `show=1`
(a note on stderr says how to show it), so a pasted terminal or a CI log never carries it by accident.
"""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import cli_action, emit, eprint


@cli_action
def _connect() -> None:
    from tasks import connect
    from tasks.aws import Clients

    fmt, show = args.output_format(), args.flag("show")  # bad input: exit 2 before any AWS call
    config = args.config()
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
