"""`doit package env=ENV`: build the ingest Lambda zip, build/ENV/ingest-<sha256>.zip (tasks/package.py),
and with a retention window the retention function's, build/ENV/retention-<sha256>.zip.

Needs no credentials and makes no AWS call. Up to date while the sources, the pins and the build
target are unchanged (doit's file_dep and config_changed; tasks/package.py checks the same fingerprint
itself, so deploy and plan never rebuild an up-to-date zip either).
"""

from __future__ import annotations

import json
from typing import Any

from doit.tools import config_changed

from tasks import package
from tasks.cli import args
from tasks.config import Config
from tasks.errors import UserError, cli_action, emit
from tasks.ingest_lambda import build_target


@cli_action
def _refuse(message: str) -> None:
    """Bad input found while creating the task: report it when the task runs, as one line."""
    raise UserError(message)


def _bundles(config: Config) -> list[package.Bundle]:
    return [package.INGEST, *([package.RETENTION] if config.retention_enabled else [])]


@cli_action
def _build(config: Config) -> None:
    import zipfile

    for bundle in _bundles(config):
        art = package.ensure(config, bundle)
        t = art.target
        with zipfile.ZipFile(art.path) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
        emit(
            f"{art.path} ({t.runtime}, {t.architecture}, {art.path.stat().st_size} bytes, "
            f"{unzipped} bytes unzipped)"
        )
        emit(f"sha256: {art.sha256}")


def task_package() -> dict[str, Any]:
    """Build the env's ingest Lambda zip (build/ENV/ingest-<sha256>.zip); no AWS call."""
    try:
        config = args.config()
    except UserError as exc:
        # Task creators run for every doit command: never raise here, fail when this task runs.
        return {"actions": [(_refuse, [str(exc)])], "uptodate": [False], "verbosity": 2}
    target = build_target(config.ingest.function, config.is_local)
    bundles = _bundles(config)
    pins = {b.name: package.pins(b) for b in bundles}
    values = json.dumps({"target": target.to_dict(), "pins": pins}, sort_keys=True)
    sources = sorted({p for b in bundles for p in b.sources()})
    return {
        "doc": "Build the Lambda zips: build/ENV/ingest-<sha256>.zip, retention- with a window; no AWS call",
        "actions": [(_build, [config])],
        "file_dep": [str(p) for p in [*sources, package.PYPROJECT, package.PACKAGER]],
        "targets": [str(config.build_dir / b.manifest) for b in bundles],
        "uptodate": [
            config_changed(values),
            lambda: all(package.current(config, b) is not None for b in bundles),
        ],
        "title": lambda task: f"package env={config.env}",
        "verbosity": 2,
    }
