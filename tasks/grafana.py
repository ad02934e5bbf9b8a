"""`doit connect grafana`: Grafana's Athena data source for the env, and dashboards over its tables.

The data source (grafana/athena-datasource, type `grafana-athena-datasource`) is a provisioning file: the
region, the catalog `s3tablescatalog/BUCKET` typed in (the data source lists only Glue's own catalogs, not
S3 Tables': grafana/athena-datasource issue 678), the namespace as the database, the stack's workgroup, and
auth by the default credential chain, or by a role Grafana assumes (`role=ARN`). The workgroup enforces its
result location, so the data source needs none. An env with a local endpoint gets it as the data source's
custom endpoint.

The dashboards (Grafana's classic JSON model) are tasks/grafana_panels.py's, for the tables the env has; a
dashboard provider file points Grafana at the folder they are mounted in. Everything here is pure: the same
config gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks.config import Config
from tasks.grafana_panels import Dashboard, Panel, dashboards

PLUGIN = "grafana-athena-datasource"
UID_MAX = 40  # Grafana's limit on a dashboard's or data source's uid
SCHEMA_VERSION = 39  # the classic dashboard model's version these files are written in
DEFAULT_KEY = "__default"  # a query's connectionArgs: the data source's own region, catalog, database
DASHBOARDS_PATH = "/var/lib/grafana/dashboards"  # where the provider file says the JSON files are mounted


@dataclass(frozen=True)
class Files:
    """What `doit connect grafana` writes, relative to its output folder, and their text."""

    name: str  # the stack's: every file is named for it
    datasource: str
    provider: str
    dashboards: dict[str, str]  # file name -> JSON

    def items(self) -> list[tuple[str, str]]:
        """(path under the output folder, text): Grafana's provisioning layout, then the dashboards."""
        return [
            (f"provisioning/datasources/{self.name}.yaml", self.datasource),
            (f"provisioning/dashboards/{self.name}.yaml", self.provider),
            *((f"dashboards/{name}", text) for name, text in self.dashboards.items()),
        ]


def uid(name: str) -> str:
    """A uid Grafana takes: the name, or (over 40 characters) its start and a hash of it."""
    if len(name) <= UID_MAX:
        return name
    return f"{name[: UID_MAX - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def datasource_uid(config: Config) -> str:
    return uid(f"{config.stack_name}-athena")


def datasource(config: Config, role_arn: str | None = None) -> dict[str, Any]:
    """The data source provisioning document (apiVersion 1)."""
    json_data: dict[str, Any] = {
        "authType": "default",
        "defaultRegion": config.region,
        "catalog": config.athena_catalog,
        "database": config.namespace,
        "workgroup": config.athena_workgroup,
    }
    if role_arn:
        json_data["assumeRoleArn"] = role_arn
    if config.is_local and config.endpoint:
        json_data["endpoint"] = config.endpoint
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": f"Athena {config.stack_name}",
                "type": PLUGIN,
                "uid": datasource_uid(config),
                "access": "proxy",
                "editable": False,
                "jsonData": json_data,
            }
        ],
    }


def provider(config: Config) -> dict[str, Any]:
    """The dashboard provider document: Grafana loads the dashboards' JSON from the mounted folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": config.stack_name,
                "folder": config.stack_name,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": True,
                "options": {"path": f"{DASHBOARDS_PATH}/{config.stack_name}"},
            }
        ],
    }


def _panel(config: Config, panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    ref = {"type": PLUGIN, "uid": datasource_uid(config)}
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": ref,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "targets": [
            {
                "refId": "A",
                "datasource": ref,
                "format": panel.format,
                "rawSQL": panel.sql,
                "connectionArgs": {"region": DEFAULT_KEY, "catalog": DEFAULT_KEY, "database": DEFAULT_KEY},
            }
        ],
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "transformations": [],
    }


def dashboard(config: Config, board: Dashboard) -> dict[str, Any]:
    """One dashboard in Grafana's classic JSON model, its panels laid out left to right, 24 columns wide."""
    panels, x, y = [], 0, 0
    for i, panel in enumerate(board.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        panels.append(_panel(config, panel, i, x, y))
        x += panel.width
    return {
        "uid": uid(f"{config.stack_name}-{board.key}"),
        "title": f"{config.stack_name}: {board.title}",
        "tags": ["otlp2pipeline", config.env],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "panels": panels,
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [],
    }


def files(config: Config, role_arn: str | None = None) -> Files:
    """Every file, for the env's tables (its signals)."""
    boards = {
        f"{config.stack_name}-{b.key}.json": json.dumps(dashboard(config, b), indent=2) + "\n"
        for b in dashboards(config.signals)
    }
    return Files(
        config.stack_name,
        yaml.safe_dump(datasource(config, role_arn), sort_keys=False),
        yaml.safe_dump(provider(config), sort_keys=False),
        boards,
    )


def write(out: Path, written: Files) -> list[Path]:
    """Write every file under `out` (folders made as needed); the paths written."""
    paths = []
    for name, text in written.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths
