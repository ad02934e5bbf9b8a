"""bench/results.json: the machine a run was measured on, and the merge of one script's figures under its
key (bench/ingest.py, bench/query.py, bench/lambda_*.py) so one script's run keeps the others' figures."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": round(load, 2),
    }


def _read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def merge_into(path: Path, key: str, value: Any) -> None:
    """Write `value` under `key` of the JSON document at `path`, keeping its other keys."""
    doc = _read(path)
    doc[key] = value
    _write(path, doc)


def merge_under(path: Path, key: str, sub: str, value: Any) -> None:
    """Write `value` under `key` -> `sub` of the JSON document at `path`, keeping every other key and the
    other entries of `key`."""
    doc = _read(path)
    found = doc.get(key)
    section: dict[str, Any] = found if isinstance(found, dict) else {}
    section[sub] = value
    doc[key] = section
    _write(path, doc)


def write_keeping_others(path: Path, doc: dict[str, Any]) -> None:
    """Write run.py's `doc` at `path`, keeping the sections the other scripts merged in (merge_into: ingest,
    query, lambda), which a plain rewrite would drop."""
    others = {k: v for k, v in _read(path).items() if k not in doc}
    _write(path, {**doc, **others})
