"""DuckDB's extensions from the pinned `duckdb-extension-*` packages, LOADed by file path, never downloaded.

Shared by `doit query` (tasks/query.py) and the local AWS's Athena (emulator/athena/engine.py): both open
an in-memory DuckDB with ``CONNECT_CONFIG`` (no autoinstall, no autoload) and LOAD each extension they need
from ``extension_path``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Never fetch or auto-load anything: extensions come only from explicit LOADs of these files.
CONNECT_CONFIG = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
}


class ExtensionMissing(RuntimeError):
    """The pinned extension package is not installed, or does not match the installed DuckDB."""


def extension_path(name: str) -> Path:
    """The `.duckdb_extension` file inside the pinned `duckdb-extension-NAME` package."""
    import duckdb

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionMissing(
            f"the duckdb-extension-{name} package is not installed: run `pip install -e .` "
            "(DuckDB never downloads extensions here)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionMissing(
            f"{path} is missing: duckdb-extension-{name} must match duckdb {duckdb.__version__}"
        )
    return path


def literal(value: str) -> str:
    """A SQL string literal (DuckDB doubles embedded single quotes)."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
