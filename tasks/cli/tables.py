"""`doit tables env=ENV [format=json]`: what each table holds (rows, files, size, snapshots, freshness).

Only reads; the format is checked before any AWS call.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tasks.cli import args
from tasks.errors import cli_action, emit


@cli_action
def _tables() -> None:
    from tasks.aws import Clients
    from tasks.table_facts import collect_bucket, facts_dict, tables_text

    config = args.config()
    fmt = args.output_format()
    # kept: tables of signals no longer in the config, and of a namespace the env no longer writes
    facts, kept = collect_bucket(Clients(config), config)
    now = dt.datetime.now(dt.UTC)
    if fmt == "json":
        doc = {"env": config.env, "tables": [facts_dict(f, now, f.signal in kept) for f in facts]}
        emit(json.dumps(doc, indent=2))
    else:
        emit(tables_text(config.env, facts, now, kept))


def task_tables() -> dict[str, Any]:
    """Rows, files, size, snapshots, last commit, partitioning and freshness of each table."""
    return {
        "doc": "Show each table of env=ENV: rows, files, size, snapshots, last commit, partition, freshness",
        "actions": [_tables],
        "uptodate": [False],
        "verbosity": 2,
    }
