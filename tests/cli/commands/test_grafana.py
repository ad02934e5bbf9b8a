"""`doit connect grafana` on the local AWS: the provisioning files and dashboards it writes hold only the
fields Grafana and its Athena data source read (their published field lists, below), point at the env's
catalog, database and workgroup, and every panel's query, expanded as Grafana expands it, runs through
`doit query engine=athena`. Grafana itself cannot run here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from tests.cli.grafana_macros import expand
from tests.cli.query_helpers import SIGNALS, lake
from tests.deploy_helpers import doit, mutating

# Grafana's data source provisioning file (administration/provisioning, "Data sources").
DATASOURCE_FIELDS = {
    "name", "type", "uid", "access", "orgId", "url", "user", "database", "basicAuth", "basicAuthUser",
    "withCredentials", "isDefault", "jsonData", "secureJsonData", "version", "editable",
}  # fmt: skip
# The Athena data source's options (grafana/athena-datasource src/types.ts AthenaDataSourceOptions) and the
# AWS auth options they extend (grafana/grafana-aws-sdk AwsAuthDataSourceJsonData).
ATHENA_JSON_DATA = {"catalog", "database", "workgroup", "outputLocation"}
AWS_AUTH_JSON_DATA = {"authType", "assumeRoleArn", "externalId", "profile", "defaultRegion", "endpoint"}
AUTH_TYPES = {"keys", "credentials", "default", "ec2_iam_role", "grafana_assume_role"}
# A dashboard provider (administration/provisioning, "Dashboards").
PROVIDER_FIELDS = {
    "name", "orgId", "folder", "folderUid", "type", "disableDeletion", "updateIntervalSeconds",
    "allowUiUpdates", "options",
}  # fmt: skip
# Grafana's dashboard JSON model (dashboards/build-dashboards/view-dashboard-json-model) and its panels.
DASHBOARD_FIELDS = {
    "id", "uid", "title", "description", "tags", "style", "timezone", "editable", "graphTooltip", "time",
    "timepicker", "templating", "annotations", "refresh", "schemaVersion", "version", "panels", "links",
    "liveNow", "fiscalYearStartMonth", "weekStart",
}  # fmt: skip
PANEL_FIELDS = {
    "id", "type", "title", "description", "datasource", "gridPos", "targets", "fieldConfig", "options",
    "transformations", "interval", "maxDataPoints", "timeFrom", "timeShift", "transparent", "links",
    "repeat", "pluginVersion",
}  # fmt: skip
# A query of the Athena data source (src/types.ts AthenaQuery, and the SQLQuery it extends).
TARGET_FIELDS = {"refId", "datasource", "hide", "format", "rawSQL", "connectionArgs", "table", "column"}
FORMATS = {0, 1, 2}  # FormatOptions: TimeSeries, Table, Logs
PANEL_TYPES = {"timeseries", "table", "stat", "barchart"}
ROLE = "arn:aws:iam::123456789012:role/observability/grafana-reader"


def _connect(emu: Any, tmp_path: Path, *extra: str) -> Any:
    return doit(emu, tmp_path, "connect", "grafana", "env=local", f"signals={SIGNALS}", *extra)


def test_the_files_hold_only_the_fields_grafana_reads_and_name_the_envs_athena(emulator, tmp_path):
    lake(emulator, rows=False)
    out_dir = tmp_path / "grafana"
    out = _connect(emulator, tmp_path, f"output={out_dir}", f"role={ROLE}")
    assert out.returncode == 0, out.stderr
    printed = yaml.safe_load(out.stdout)
    source_file = out_dir / "provisioning/datasources/otlp2pipeline-local.yaml"
    assert yaml.safe_load(source_file.read_text()) == printed  # stdout is the provisioning file itself
    assert printed["apiVersion"] == 1
    (source,) = printed["datasources"]
    assert set(source) <= DATASOURCE_FIELDS and source["type"] == "grafana-athena-datasource"
    data = source["jsonData"]
    assert set(data) <= ATHENA_JSON_DATA | AWS_AUTH_JSON_DATA and data["authType"] in AUTH_TYPES
    assert data["catalog"] == "s3tablescatalog/otlp2pipeline-local"
    assert (data["database"], data["defaultRegion"], data["assumeRoleArn"]) == ("default", "us-east-1", ROLE)
    group = emulator.client("athena").get_work_group(WorkGroup=data["workgroup"])["WorkGroup"]
    assert group["Configuration"]["EnforceWorkGroupConfiguration"]  # so no outputLocation is needed

    (prov,) = yaml.safe_load((out_dir / "provisioning/dashboards/otlp2pipeline-local.yaml").read_text())[
        "providers"
    ]
    assert set(prov) <= PROVIDER_FIELDS and prov["type"] == "file"
    boards = sorted((out_dir / "dashboards").glob("*.json"))
    assert [b.name for b in boards] == [
        "otlp2pipeline-local-logs.json",
        "otlp2pipeline-local-metrics.json",
        "otlp2pipeline-local-traces.json",
    ]
    uids = set()
    for path in boards:
        board = json.loads(path.read_text())
        assert set(board) <= DASHBOARD_FIELDS, path.name
        assert isinstance(board["schemaVersion"], int) and len(board["uid"]) <= 40
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(set(ids)) == len(ids) > 0
        for panel in board["panels"]:
            assert set(panel) <= PANEL_FIELDS and panel["type"] in PANEL_TYPES, panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
            assert panel["datasource"] == {"type": source["type"], "uid": source["uid"]}
            for target in panel["targets"]:
                assert set(target) <= TARGET_FIELDS and target["format"] in FORMATS
                assert target["datasource"]["uid"] == source["uid"] and target["rawSQL"].strip()
    assert len(uids) == len(boards)


def test_every_panel_as_written_runs_through_doit_query_engine_athena(emulator, tmp_path):
    lake(emulator)
    out_dir = tmp_path / "grafana"
    assert _connect(emulator, tmp_path, f"output={out_dir}").returncode == 0
    now = dt.datetime.now(dt.UTC)
    answered, panels = 0, 0
    for path in sorted((out_dir / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                panels += 1
                sql = expand(target["rawSQL"], now - dt.timedelta(hours=6), now + dt.timedelta(hours=1), "1m")
                args = ("query", "env=local", f"signals={SIGNALS}", "engine=athena", "format=json")
                ran = doit(emulator, tmp_path, *args, f"sql={sql}")
                assert ran.returncode == 0, f"{panel['title']}: {ran.stderr}"
                doc = json.loads(ran.stdout)
                assert doc["scan"]["scanned_bytes"] > 0, panel["title"]
                answered += bool(doc["rows"])
    # RED's four, the error logs' two, and one per metric table (sum, gauge, histogram): each finds rows
    assert answered == panels == 9


def test_bad_input_and_an_env_without_athena_are_one_line_before_any_write(emulator, tmp_path):
    bad = _connect(emulator, tmp_path, "role=arn:aws:iam::123456789012:user/someone")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: role=")
    lake(emulator, rows=False)
    emulator.reset_calls()
    unknown = doit(emulator, tmp_path, "connect", "prometheus", "env=local", f"signals={SIGNALS}")
    assert unknown.returncode == 2 and "doit connect prometheus is unknown" in unknown.stderr
    assert mutating(emulator) == {}
    emulator.client("cloudformation").delete_stack(StackName="otlp2pipeline-local")
    gone = _connect(emulator, tmp_path, f"output={tmp_path / 'none'}")
    assert gone.returncode == 1 and "doit deploy env=local" in gone.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "none").exists()
