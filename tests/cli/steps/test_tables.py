"""The tables step (tasks/steps/tables.py) and kept tables (tasks/steps/kept_tables.py) against the local AWS:
narrowing `signals` keeps a table and its rows, widening resumes into it, only `drop=NAME` deletes it (plan
shows what goes, first), a data-losing change without consent is refused before any write, and the
contract evolves a deployed table in place or is refused with no write."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
import yaml

from lake import schemas
from tasks.aws import Clients
from tasks.errors import ConsentRequired, UserError, describe
from tasks.step import Change, Diff, Options
from tasks.steps import kept_tables
from tests.cli.table_helpers import send_rows, static_table
from tests.deploy_helpers import deploy, doit, doit_cli, mutating, run, total_calls

NO_INGEST = {"ingest.enabled": "false"}
NARROW = {**NO_INGEST, "signals": "logs,sum,gauge"}
BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"
CLI = ["env=local", "ingest.enabled=false"]


def _uuid(emu: Any, name: str) -> str:
    return str(static_table(emu, name).metadata.table_uuid)


def _role_grant_tables(emu: Any, r: Any) -> set[str]:
    role = r.ctx.facts.firehose_role_arn
    perms = emu.client("lakeformation").list_permissions()["PrincipalResourcePermissions"]
    return {
        p["Resource"]["Table"]["Name"]
        for p in perms
        if p["Principal"]["DataLakePrincipalIdentifier"] == role and "Table" in p["Resource"]
    }


def test_narrowing_keeps_the_table_with_its_rows_and_widening_resumes_into_the_same_table(emulator, tmp_path):
    deploy(emulator, NO_INGEST)
    send_rows(emulator, NO_INGEST, "traces", 40)
    before = _uuid(emulator, "traces")

    narrowed = deploy(emulator, NARROW)
    fh = emulator.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert "otlp2pipeline-local-traces" not in fh  # its stream goes
    assert _role_grant_tables(emulator, narrowed) == {"logs", "sum", "gauge"}  # and the role's grant on it
    assert static_table(emulator, "traces").scan().to_arrow().num_rows == 40  # the table and its rows stay

    plan = doit(emulator, tmp_path, "plan", *CLI, "signals=logs,sum,gauge")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "kept_tables: note: table default.traces is kept, not ingesting (40 rows, " in plan.stdout
    assert "drop=traces deletes it" in plan.stdout and plan.stdout.strip().endswith("no changes")
    status = doit(emulator, tmp_path, "status", *CLI, "signals=logs,sum,gauge")
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r"table traces: kept, not ingesting: 40 rows, .* newest \d{4}-", status.stdout)
    assert "freshness traces: 40 rows" in status.stdout and "kept, not ingesting" in status.stdout
    query = doit(
        emulator, tmp_path, "query", *CLI, "signals=logs,sum,gauge", "sql=select count(*) n from traces"
    )
    assert query.returncode == 0 and re.search(r"\b40\b", query.stdout), query.stdout + query.stderr
    tables = doit(emulator, tmp_path, "tables", *CLI, "signals=logs,sum,gauge", "format=json")
    assert {t["table"]: t["kept"] for t in json.loads(tables.stdout)["tables"]}["traces"] is True

    emulator.reset_calls()
    widened = deploy(emulator, NO_INGEST)
    assert "table_traces" not in {
        r.name for r in widened.results.values() if r.outcome and r.outcome.result != "unchanged"
    }
    assert emulator.call_count("s3tables", "CreateTable") == 0
    send_rows(emulator, NO_INGEST, "traces", 25)
    assert _uuid(emulator, "traces") == before  # the same table: old rows and new
    assert static_table(emulator, "traces").scan().to_arrow().num_rows == 65


def test_drop_deletes_a_kept_table_only_when_named_and_plan_shows_what_it_loses_first(emulator, tmp_path):
    deploy(emulator, NO_INGEST)
    send_rows(emulator, NO_INGEST, "traces", 12)
    deploy(emulator, NARROW)
    narrow = [*CLI, "signals=logs,sum,gauge"]

    plan = doit(emulator, tmp_path, "plan", *narrow, "drop=traces")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    lines = plan.stdout.splitlines()
    head = lines.index("data these changes delete (deploy makes each only when drop= names it):")
    title = next(i for i, line in enumerate(lines) if line.startswith("plan env=local"))
    assert head == title + 1  # right after the plan's title, before any step
    assert re.match(
        r"  delete table default\.traces: 12 rows, [\d.]+ \w*B, newest "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \[drop=traces\]$",
        lines[head + 1],
    ), lines[head + 1]
    assert "kept_tables: delete iceberg table default.traces (drop=traces)" in plan.stdout

    emulator.reset_calls()
    active = doit(emulator, tmp_path, "deploy", *narrow, "drop=logs")
    assert active.returncode == 2 and "error: drop=logs is refused: logs is an active signal" in active.stderr
    assert total_calls(emulator) == 0
    nothing = doit(emulator, tmp_path, "deploy", *narrow, "drop=histogram")
    assert nothing.returncode == 2, nothing.stdout + nothing.stderr
    assert (
        "error: drop=histogram names no kept table of namespace default (kept tables: traces): only a table "
        "whose signal left the config can be dropped"
    ) in nothing.stderr
    unknown = doit(emulator, tmp_path, "deploy", *narrow, "drop=error_bucket")
    assert (
        unknown.returncode == 2
        and (
            "error: drop=error_bucket names nothing this deploy would delete (no kept table or other data to "
            "delete)"
        )
        in unknown.stderr
    )
    assert mutating(emulator) == {}

    done = doit(emulator, tmp_path, "deploy", *narrow, "drop=traces")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deleted table default.traces (12 rows, " in done.stdout
    names = {t["name"] for t in emulator.client("s3tables").list_tables(tableBucketARN=BUCKET)["tables"]}
    assert names == {"logs", "sum", "gauge"}
    emulator.reset_calls()
    again = doit(emulator, tmp_path, "deploy", *narrow)
    assert again.returncode == 0 and mutating(emulator) == {}, again.stdout + again.stderr


def test_a_change_that_loses_data_without_consent_is_refused_before_any_write_with_exit_6(
    emulator, monkeypatch
):
    """The runner's consent rule for any step's change that says what it loses (Change.loses)."""
    deploy(emulator, NO_INGEST)
    deploy(emulator, NARROW)
    real = kept_tables.diff

    def losing(want: Any, have: Any) -> Diff[Any, Any]:  # as a stack change the plan marks would
        d = real(want, have)
        if not d.changes:
            d.changes = [
                Change(
                    "delete",
                    "iceberg table default.traces",
                    loses="table default.traces: 0 rows",
                    consent="traces",
                )
            ]
        return d

    monkeypatch.setattr(kept_tables, "diff", losing)
    emulator.reset_calls()
    r = run(emulator, {**NARROW, "log_retention_days": "30"})  # a stack change too: nothing of it may happen
    with pytest.raises(ConsentRequired) as err:
        r.deploy_sequential()
    assert describe(err.value)[1] == 6
    assert str(err.value) == (
        "error: deploy env=local would delete data: table default.traces: 0 rows. Nothing was changed: to "
        "allow it, run `doit deploy env=local drop=traces`"
    )
    assert mutating(emulator) == {}
    consented = run(emulator, {**NARROW, "log_retention_days": "30"}, options=Options(drop=("traces",)))
    consented.deploy_sequential()
    assert mutating(emulator)["s3tables:DeleteTable"] == 1


def _contract(monkeypatch: Any, signal: str, change: Any) -> None:
    """The contract of `signal` as `change(columns, schema)` makes it (config/schemas is left alone)."""
    real = schemas.load

    def load(name: str) -> schemas.TableSchema:
        schema = real(name)
        return change(list(schema.columns), schema) if name == signal else schema

    monkeypatch.setattr(schemas, "load", load)


def test_a_new_optional_column_deploys_in_place_and_old_rows_read_it_as_null(emulator, monkeypatch):
    deploy(emulator, NO_INGEST)
    send_rows(emulator, NO_INGEST, "logs", 5)
    region = schemas.Column(16, "region", "string", False)
    _contract(monkeypatch, "logs", lambda cols, s: dataclasses.replace(s, columns=(*cols, region)))

    plan = run(emulator, NO_INGEST).plan()
    (change,) = next(p for p in plan if p.name == "table_logs").diff.changes
    assert change.fields == {"column region": (None, "string, optional")}
    emulator.reset_calls()
    deploy(emulator, NO_INGEST)
    assert mutating(emulator) == {"s3tables:UpdateTable": 1}  # one commit, through the REST endpoint
    table = static_table(emulator, "logs")
    assert table.schema().find_field("region").field_id == 16
    assert table.scan().to_arrow().column("region").to_pylist() == [None] * 5
    emulator.reset_calls()
    deploy(emulator, NO_INGEST)
    assert mutating(emulator) == {}


REFUSED = {
    "narrowed type": (
        "traces",
        lambda cols, s: dataclasses.replace(
            s, columns=tuple(dataclasses.replace(c, type="int32") if c.name == "flags" else c for c in cols)
        ),
        "error: table default.traces, column flags: type long cannot become int in place",
    ),
    "removed column": (
        "logs",
        lambda cols, s: dataclasses.replace(s, columns=tuple(cols[:-1])),
        "error: table default.logs, column log_attributes: it is in the table but not in the contract",
    ),
    "partition change": (
        "sum",
        lambda cols, s: dataclasses.replace(s, partition_transform="hour"),
        "error: table default.sum, column (partition spec): the table is partitioned by day(timestamp) and "
        "the contract says hour(timestamp)",
    ),
    "new required column": (
        "gauge",
        lambda cols, s: dataclasses.replace(s, columns=(*cols, schemas.Column(17, "zone", "string", True))),
        "error: table default.gauge, column zone: a new column must be optional",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_changes_iceberg_cannot_make_in_place_are_refused_with_no_write(emulator, monkeypatch, case):
    deploy(emulator, NO_INGEST)
    signal, change, line = REFUSED[case]
    _contract(monkeypatch, signal, change)
    emulator.reset_calls()
    r = run(emulator, {**NO_INGEST, "log_retention_days": "30"})  # a stack change too: it must not happen
    with pytest.raises(UserError) as err:
        r.deploy_sequential()
    assert describe(err.value)[1] == 2
    assert str(err.value).startswith(line) and "\n" not in str(err.value), str(err.value)
    assert mutating(emulator) == {}
    results = run(emulator, NO_INGEST).plan()
    assert [x for res in results if res.diff for x in res.diff.refusals] == [str(err.value)]


def test_a_table_changed_by_hand_beyond_the_contract_is_refused_by_plan_and_deploy_with_exit_2(
    emulator, tmp_path
):
    """A column added to a live table out of band is one the contract would remove: status reports it,
    plan and deploy refuse it (exit 2) before any write, whatever else changes."""
    from tasks.iceberg_rest import IcebergRest

    r = deploy(emulator, NO_INGEST)
    rest = IcebergRest(Clients(r.config), BUCKET)
    live = rest.load_table("default", "logs")
    assert live is not None
    fields = [
        *live["metadata"]["schemas"][0]["fields"],
        {"id": 16, "name": "note", "type": "string", "required": False},
    ]
    rest.commit(
        "default",
        "logs",
        [{"type": "assert-current-schema-id", "current-schema-id": 0}],
        [{"action": "add-schema", "schema": {"type": "struct", "schema-id": 1, "fields": fields}},
         {"action": "set-current-schema", "schema-id": -1}],
    )  # fmt: skip
    line = (
        "error: table default.logs, column note: it is in the table but not in the contract, and a column is "
        "never removed (its data would be lost); keep the column in config/schemas"
    )
    status = doit(emulator, tmp_path, "status", *CLI)
    assert status.returncode == 1 and f"refused: {line.removeprefix('error: ')}" in status.stdout, (
        status.stdout
    )
    plan = doit(emulator, tmp_path, "plan", *CLI, "log_retention_days=30")
    assert plan.returncode == 2 and f"  {line}" in plan.stdout, plan.stdout + plan.stderr
    assert plan.stderr.strip() == line
    emulator.reset_calls()
    refused = doit(emulator, tmp_path, "deploy", *CLI, "log_retention_days=30")
    assert refused.returncode == 2 and refused.stderr.strip() == line, refused.stdout + refused.stderr
    assert mutating(emulator) == {}


def test_deploy_refuses_with_exit_6_a_stack_change_that_loses_data_until_drop_names_it(emulator, tmp_path):
    """A bucket holding objects that someone added to the env's stack: deploy would delete it with the
    stack's next update, so `doit deploy` lists it first and refuses (exit 6, nothing written) until
    `drop=` names it."""
    r = deploy(emulator, NO_INGEST)
    cfn = emulator.client("cloudformation")
    body = cfn.get_template(StackName=r.config.stack_name)["TemplateBody"]
    doc = body if isinstance(body, dict) else yaml.safe_load(body)
    doc["Resources"]["Scratch"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {"BucketName": "env-scratch-bucket"},
    }
    cfn.update_stack(
        StackName=r.config.stack_name,
        TemplateBody=json.dumps(doc),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Tags=[{"Key": k, "Value": v} for k, v in r.config.all_tags.items()],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=r.config.stack_name, WaiterConfig={"Delay": 0.2})
    emulator.client("s3").put_object(Bucket="env-scratch-bucket", Key="kept.txt", Body=b"data")

    emulator.reset_calls()
    refused = doit_cli(emulator, tmp_path, "deploy", *CLI)  # exit 6's real process (test_exit_codes.py)
    assert refused.returncode == 6, refused.stdout + refused.stderr
    assert refused.stderr.strip() == (
        "error: deploy env=local would delete data: bucket env-scratch-bucket: 1 object version(s). Nothing "
        "was changed: to allow it, run `doit deploy env=local drop=scratch`"
    )
    assert "  delete bucket env-scratch-bucket: 1 object version(s) [drop=scratch]" in refused.stdout
    assert mutating(emulator) == {}
    consented = doit(emulator, tmp_path, "deploy", *CLI, "drop=scratch")
    assert consented.returncode == 0, consented.stdout + consented.stderr
    resources = cfn.list_stack_resources(StackName=r.config.stack_name)["StackResourceSummaries"]
    assert "Scratch" not in {x["LogicalResourceId"] for x in resources}
