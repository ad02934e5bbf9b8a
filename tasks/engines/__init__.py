"""The query engines `doit query engine=NAME` runs SQL on, behind one interface (tasks/engines/base.py).

A registry as pyiceberg's catalogs have one: a name and where its class lives, imported only when chosen
(DuckDB or boto3's Athena client load only for the engine that runs). A third engine (Redshift, Trino) is
a module with an Engine subclass and one entry here; the contract test
(tests/cli/commands/test_query_engines.py) then runs every shared behaviour against it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.config import Config
    from tasks.engines.base import Engine

DEFAULT = "duckdb"
ENGINES: dict[str, str] = {
    "duckdb": "tasks.engines.duckdb:DuckDBEngine",  # on this machine, over the network (tasks/query.py)
    "athena": "tasks.engines.athena:AthenaEngine",  # in the env's Athena workgroup, billed per byte scanned
}


def names() -> tuple[str, ...]:
    """The engines, the default first (tasks/cli/args.py's choice reads the first as the default)."""
    return (DEFAULT, *(n for n in ENGINES if n != DEFAULT))


def engine_class(name: str) -> type[Engine]:
    module, _, cls = ENGINES[name].partition(":")
    found: type[Engine] = getattr(importlib.import_module(module), cls)
    return found


def create(name: str, config: Config) -> Engine:
    return engine_class(name)(config)
