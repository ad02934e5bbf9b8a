"""`doit connect env=ENV [show=1] [format=json]`: the endpoint, SDK variables and a Collector exporter block.
`doit connect grafana env=ENV [role=ARN] [output=DIR]`: Grafana's Athena data source and dashboards.

Read-only: one DescribeStacks, plus one GetSecretValue for token auth. The token is masked unless `show=1`
(a note on stderr says how to show it), so a pasted terminal or a CI log never carries it by accident.
The Grafana files come from the config, once the stack is seen to have its Athena workgroup (one
DescribeStacks): the data source's provisioning file is printed, and every file is written under `output`
(build/ENV/grafana by default).
"""

from __future__ import annotations

import json
from typing import Any

from tasks.cli import args
from tasks.errors import UserError, cli_action, emit, eprint

TARGETS = ("grafana",)


def _grafana() -> None:
    from tasks import grafana
    from tasks.aws import Clients
    from tasks.errors import NotDeployed
    from tasks.step import Context
    from tasks.steps.stack import outputs_of
    from tasks.steps.stack_events import describe
    from tasks.template import ATHENA_OUTPUT_KEYS

    config = args.config()
    role, out = args.role_arn(config), args.output_dir(config, "grafana")  # before any AWS call
    stack = describe(Context(config, Clients(config)), config.stack_name)
    workgroup = outputs_of(stack or {}).get(ATHENA_OUTPUT_KEYS[0])
    if stack is None or stack.get("StackStatus") in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        raise NotDeployed(
            f"error: stack {config.stack_name} is not deployed: run `doit deploy env={config.env}`"
        )
    if workgroup != config.athena_workgroup:
        raise NotDeployed(
            f"error: stack {config.stack_name} has no Athena workgroup {config.athena_workgroup}: run "
            f"`doit deploy env={config.env}` (the stack adds it)"
        )
    written = grafana.files(config, role)
    emit(written.datasource.rstrip("\n"))
    for path in grafana.write(out, written):
        eprint(f"wrote {path}")


@cli_action
def _connect(target: list[str]) -> None:
    from tasks import connect
    from tasks.aws import Clients

    if target:
        if len(target) > 1 or target[0] not in TARGETS:
            raise UserError(
                f"error: doit connect {' '.join(target)} is unknown: `doit connect` (the OTLP endpoint) or "
                f"`doit connect {'|'.join(TARGETS)}`"
            )
        _grafana()
        return
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
    """What to paste into an SDK's environment or a Collector config, or (`grafana`) into Grafana."""
    return {
        "doc": "Print the env's OTLP endpoint, SDK variables and Collector exporter (show=1 format=json); "
        "`doit connect grafana [role=ARN]`: Grafana's Athena data source and dashboards",
        "actions": [_connect],
        "pos_arg": "target",
        "uptodate": [False],
        "verbosity": 2,
    }
