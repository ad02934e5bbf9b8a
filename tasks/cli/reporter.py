"""doit's console reporter, except that a machine-readable run keeps doit's own lines off stdout.

`doit query ... format=json | jq`, `doit status format=json > s.json`, `doit tables format=csv` and
`doit connect grafana > datasource.yaml` must give only their document on stdout; doit's `.  query` title
(and any failure report) goes to stderr then.
"""

from __future__ import annotations

import sys
from typing import Any

from doit.reporter import ConsoleReporter

from tasks.cli import args


class Reporter(ConsoleReporter):
    desc = "console output; doit's own lines go to stderr with format=json|csv and connect grafana"

    def __init__(self, outstream: Any, options: dict[str, Any]) -> None:
        machine = args.machine_format()
        super().__init__(sys.stderr if machine else outstream, options)
