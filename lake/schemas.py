"""The table contract: one YAML file per signal under config/schemas/.

Single source of truth for columns, types and nullability. The template, test records, the receiver,
verify/ and the emulator tests all read it through this module; which signals there are is
lake/signals.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from lake.signals import ALL_SIGNALS

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "config" / "schemas"


# Contract type -> Iceberg primitive type (otlp-tables.md, "Type mapping to Iceberg").
ICEBERG_TYPES: dict[str, str] = {
    "timestamp": "timestamp",
    "int64": "long",
    "int32": "int",
    "float64": "double",
    "bool": "boolean",
    "json": "string",
    "string": "string",
}


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    type: str  # contract type: timestamp, int64, int32, float64, bool, json, string
    required: bool

    @property
    def iceberg_type(self) -> str:
        return ICEBERG_TYPES[self.type]


@dataclass(frozen=True)
class TableSchema:
    signal: str
    columns: tuple[Column, ...]
    partition_source: str
    partition_transform: str

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _read(path: Path) -> str:
    """A file beside this module, also when imported from a zip (the ingest Lambda, tasks/package.py)."""
    get_data = getattr(globals().get("__loader__"), "get_data", None)
    return get_data(str(path)).decode("utf-8") if get_data is not None else path.read_text()


@cache
def load(signal: str) -> TableSchema:
    if signal not in ALL_SIGNALS:
        raise KeyError(f"unknown signal {signal!r}: must be one of {', '.join(ALL_SIGNALS)}")
    doc = yaml.safe_load(_read(SCHEMA_DIR / f"{signal}.yaml"))
    columns = tuple(
        Column(id=i, name=c["name"], type=c["type"], required=bool(c["required"]))
        for i, c in enumerate(doc["columns"], start=1)
    )
    for col in columns:
        if col.type not in ICEBERG_TYPES:
            raise ValueError(f"{signal}.{col.name}: unknown contract type {col.type!r}")
        if col.name != col.name.lower():
            raise ValueError(f"{signal}.{col.name}: S3 Tables column names must be lowercase")
    part = doc["partition"]
    return TableSchema(signal, columns, part["source"], part["transform"])
