"""deploy / plan / status against the emulator: the real doit CLI for end-to-end runs, steps in-process
for the rest."""

from __future__ import annotations

import json

from bench import budgets
from lake.signals import DEFAULT_SIGNALS
from tasks.step import Options
from tests.deploy_helpers import deploy, doit, mutating, run, total_calls
from tests.emulator.helpers import iam_principal
from tests.emulator.streams import firehose_role_arn

# The budgets (bench/budgets.py) here are those of the stack without the ingest function;
# tests/cli/steps/test_ingest_deploy.py holds the ingest function's own: one HeadObject more, no write.
NO_INGEST = "ingest.enabled=false"


def test_fresh_deploy_then_status_ok_and_second_deploy_is_a_noop(emulator, tmp_path):
    first = doit(emulator, tmp_path, "deploy", "env=local", NO_INGEST)
    assert first.returncode == 0, first.stdout + first.stderr
    for step in (
        "lf_role",
        "lf_admins",
        "lf_resource",
        "catalog",
        "catalog_grant",
        "stack",
        "grants",
        *(f"stream_{s}" for s in DEFAULT_SIGNALS),
    ):
        assert f"{step}: created" in first.stdout, step
    summary = first.stdout.strip().splitlines()[-1]
    assert summary.startswith("deploy env=local:") and "AWS calls" in summary

    status = doit(emulator, tmp_path, "status", "env=local", NO_INGEST)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "healthy" in status.stdout
    for s in DEFAULT_SIGNALS:
        assert f"stream otlp2pipeline-local-{s}: ACTIVE, AppendOnly=True" in status.stdout

    emulator.reset_calls()
    second = doit(emulator, tmp_path, "deploy", "env=local", NO_INGEST)
    assert second.returncode == 0, second.stdout + second.stderr
    assert mutating(emulator) == {}
    assert total_calls(emulator) <= budgets.NOOP_NO_INGEST
    assert "0 writes" in second.stdout.strip().splitlines()[-1]
    assert "created" not in second.stdout and "updated" not in second.stdout


def test_cold_deploy_call_budget_and_status_plan_budgets(emulator):
    no_ingest = {"ingest.enabled": "false"}
    emulator.reset_calls()
    r = deploy(emulator, no_ingest)
    assert total_calls(emulator) <= budgets.COLD_NO_INGEST, emulator.calls()
    assert r.counter.total == total_calls(emulator)

    emulator.reset_calls()
    plan = run(emulator, no_ingest).plan()
    assert all(p.diff is not None and p.diff.empty for p in plan)
    assert total_calls(emulator) <= budgets.PLAN_NO_INGEST and mutating(emulator) == {}

    emulator.reset_calls()
    status = run(emulator, no_ingest, include_checks=True)
    results = [status.evaluate(n) for n in status.steps]
    assert all(res.error is None and res.diff is not None and res.diff.empty for res in results)
    assert total_calls(emulator) <= budgets.STATUS_NO_INGEST and mutating(emulator) == {}


def test_plan_on_fresh_env_lists_every_resource_as_create_and_makes_no_write(emulator):
    emulator.reset_calls()
    results = run(emulator).plan()
    assert mutating(emulator) == {}
    changes = {r.name: r.diff.changes for r in results if r.diff is not None}
    assert changes.pop("stream_cleanup") == []
    assert changes.pop("kept_tables") == []
    assert changes.pop("rollback_code") == []  # no stack yet: no deployed code to keep
    assert changes.pop("readers") == []  # no readers configured: nobody to grant
    assert changes.pop("alarms") == []  # no stack yet: its create makes them
    for name, step_changes in changes.items():
        assert step_changes, name
        assert {c.action for c in step_changes} == {"create"}, name
    assert len(changes["grants"]) == 1 + len(DEFAULT_SIGNALS)


def test_plan_cli_converged_says_no_changes_text_and_json(emulator, tmp_path):
    deploy(emulator)
    emulator.reset_calls()
    text = doit(emulator, tmp_path, "plan", "env=local")
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip().splitlines()[-1] == "no changes"
    as_json = doit(emulator, tmp_path, "plan", "env=local", "format=json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout[as_json.stdout.index("{") :])
    assert doc["changes"] == 0 and {s["step"] for s in doc["steps"]} >= {"stack", "grants", "stream_logs"}
    assert mutating(emulator) == {}


# The data freshness alarms' threshold follows the buffering interval unless alarms.freshness_seconds pins it
# (tests/cli/steps/test_alarms.py): pinned to the deployed value, a buffering change touches the streams only.
PIN = "alarms.freshness_seconds=300"


def test_buffering_change_is_an_in_place_update_on_each_stream(emulator, tmp_path):
    deploy(emulator)
    fh = emulator.client("firehose")
    before = {
        s: fh.describe_delivery_stream(DeliveryStreamName=f"otlp2pipeline-local-{s}")[
            "DeliveryStreamDescription"
        ]
        for s in DEFAULT_SIGNALS
    }

    results = run(
        emulator, {"firehose.buffering_interval_seconds": "30", "alarms.freshness_seconds": "300"}
    ).plan()
    changed = {r.name: r.diff.changes for r in results if r.diff is not None and r.diff.changes}
    assert set(changed) == {f"stream_{s}" for s in DEFAULT_SIGNALS}
    for step_changes in changed.values():
        assert len(step_changes) == 1
        assert step_changes[0].action == "update"
        assert set(step_changes[0].fields) == {"BufferingHints"}
        assert step_changes[0].fields["BufferingHints"][1]["IntervalInSeconds"] == 30

    plan = doit(emulator, tmp_path, "plan", "env=local", "firehose.buffering_interval_seconds=30", PIN)
    assert plan.returncode == 0
    assert plan.stdout.count("update firehose stream") == len(DEFAULT_SIGNALS)

    emulator.reset_calls()
    out = doit(emulator, tmp_path, "deploy", "env=local", "firehose.buffering_interval_seconds=30", PIN)
    assert out.returncode == 0, out.stdout + out.stderr
    assert mutating(emulator) == {"firehose:UpdateDestination": len(DEFAULT_SIGNALS)}
    for s in DEFAULT_SIGNALS:
        after = fh.describe_delivery_stream(DeliveryStreamName=f"otlp2pipeline-local-{s}")[
            "DeliveryStreamDescription"
        ]
        assert after["DeliveryStreamARN"] == before[s]["DeliveryStreamARN"]
        assert after["CreateTimestamp"] == before[s]["CreateTimestamp"]
        assert int(after["VersionId"]) == int(before[s]["VersionId"]) + 1
        ice = after["Destinations"][0]["IcebergDestinationDescription"]
        assert ice["BufferingHints"]["IntervalInSeconds"] == 30
        assert ice["AppendOnly"] is True


def test_account_level_state_of_others_survives_deploy_and_destroy(emulator, tmp_path):
    lf = emulator.client("lakeformation")
    glue = emulator.client("glue")
    someone = iam_principal(emulator.client("iam"), "arn:aws:iam::123456789012:role/SomeoneElse")
    other_admin = {"DataLakePrincipalIdentifier": someone}
    lf.put_data_lake_settings(
        DataLakeSettings={"DataLakeAdmins": [other_admin], "TrustedResourceOwners": ["210987654321"]}
    )
    lf.register_resource(ResourceArn="arn:aws:s3:::unrelated-bucket", UseServiceLinkedRole=True)
    glue.create_catalog(
        Name="s3tablescatalog",
        CatalogInput={
            "Description": "shared with the analytics team",
            "FederatedCatalog": {
                "Identifier": "arn:aws:s3tables:us-east-1:123456789012:bucket/*",
                "ConnectionName": "aws:s3tables",
            },
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
            "CatalogProperties": {
                "CustomProperties": {"AllowFullTableExternalDataAccess": "false", "team": "analytics"}
            },
        },
    )

    out = doit(emulator, tmp_path, "deploy", "env=local")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "catalog: updated" in out.stdout

    def account_state() -> tuple:
        settings = lf.get_data_lake_settings()["DataLakeSettings"]
        cat = glue.get_catalog(CatalogId="s3tablescatalog")["Catalog"]
        resources = {r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]}
        props = cat["CatalogProperties"]["CustomProperties"]
        return settings, cat.get("Description"), props, cat.get("AllowFullTableExternalDataAccess"), resources

    settings, description, props, allow_full, resources = account_state()
    admins = [a["DataLakePrincipalIdentifier"] for a in settings["DataLakeAdmins"]]
    assert other_admin["DataLakePrincipalIdentifier"] in admins and len(admins) == 2
    assert settings["TrustedResourceOwners"] == ["210987654321"]
    assert description == "shared with the analytics team"
    # The setting is the top-level member (glue model); a custom property of that name is someone's own.
    assert allow_full == "True"
    assert props == {"AllowFullTableExternalDataAccess": "false", "team": "analytics"}
    assert "arn:aws:s3:::unrelated-bucket" in resources

    before_destroy = account_state()
    gone = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert account_state() == before_destroy


def test_registration_with_another_role_is_a_note_unless_repair(emulator):
    lf = emulator.client("lakeformation")
    iam = emulator.client("iam")
    iam.create_role(RoleName="OtherRole", AssumeRolePolicyDocument="{}")
    arn = "arn:aws:s3tables:us-east-1:123456789012:bucket/*"
    lf.register_resource(
        ResourceArn=arn,
        RoleArn="arn:aws:iam::123456789012:role/OtherRole",
        WithFederation=True,
        WithPrivilegedAccess=True,
    )

    r = deploy(emulator)
    res = r.results["lf_resource"]
    assert res.outcome.result == "unchanged" and res.diff.notes and "repair=1" in res.diff.notes[0]
    assert lf.describe_resource(ResourceArn=arn)["ResourceInfo"]["RoleArn"].endswith("role/OtherRole")

    repaired = run(emulator, options=Options(repair=True))
    repaired.deploy_sequential()
    assert repaired.results["lf_resource"].outcome.result == "updated"
    assert lf.describe_resource(ResourceArn=arn)["ResourceInfo"]["RoleArn"].endswith(
        "role/S3TablesRoleForLakeFormation"
    )


def test_failed_step_exits_non_zero_naming_the_step(emulator, tmp_path):
    deploy(emulator)
    emulator.set_faults({"fail_mutating_call": {"number": 1, "error_code": "InternalFailure", "status": 500}})
    try:
        out = doit(emulator, tmp_path, "deploy", "env=local", "firehose.buffering_interval_seconds=45", PIN)
    finally:
        emulator.clear_faults()
    # standard retry mode absorbs one 500; a failure that sticks is what must name the step
    assert out.returncode == 0, out.stderr

    emulator.set_faults(
        {"fail_mutating_call": {"number": 1, "error_code": "InvalidArgumentException", "status": 400}}
    )
    try:
        out = doit(emulator, tmp_path, "deploy", "env=local", "firehose.buffering_interval_seconds=50", PIN)
    finally:
        emulator.clear_faults()
    assert out.returncode != 0
    failed = [line for line in out.stderr.splitlines() if line.startswith("deploy:stream_")]
    assert failed and "InvalidArgumentException" in failed[0]


def test_stream_of_a_disabled_signal_is_deleted(emulator):
    deploy(emulator)
    emulator.reset_calls()
    r = deploy(emulator, {"signals": "logs,traces,sum"})
    assert r.results["stream_cleanup"].outcome.result == "deleted"
    names = emulator.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert "otlp2pipeline-local-gauge" not in names and "otlp2pipeline-local-logs" in names


def test_bad_input_is_one_line_and_no_aws_call(emulator, tmp_path):
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "plan", "env=local", "firehose.buffering_size_mb=500")
    assert out.returncode == 2
    assert "firehose.buffering_size_mb" in out.stderr
    deployed = doit(emulator, tmp_path, "deploy", "env=local", "signals=logs,foo")
    assert deployed.returncode == 2, deployed.stdout + deployed.stderr
    assert deployed.stderr.strip() == (
        "error: signal 'foo' is unknown: must be one of logs, traces, sum, gauge, histogram, exp_histogram"
    )
    assert total_calls(emulator) == 0


def test_grants_the_account_listing_omits_are_confirmed_per_resource_not_granted_again(emulator, monkeypatch):
    """If AWS's account-wide ListPermissions leaves out grants inside the S3 Tables child catalogs (it is not
    documented either way), a converged env still makes no write: each grant the listing omits is read per
    resource (Principal + Resource) first. A cold deploy skips those reads: its catalog and tables are new."""
    from tasks.steps import lf_permissions

    listed = lf_permissions._list_all

    def without_child_catalogs(ctx):
        return [e for e in listed(ctx) if "s3tablescatalog" not in json.dumps(e["Resource"])]

    monkeypatch.setattr(lf_permissions, "_list_all", without_child_catalogs)
    emulator.reset_calls()
    deploy(emulator)
    assert emulator.call_count("lakeformation", "ListPermissions") == 2  # catalog_grant's and grants' listing
    assert total_calls(emulator) <= budgets.COLD_NO_INGEST

    emulator.reset_calls()
    deploy(emulator)
    assert mutating(emulator) == {}
    per_resource = 1 + 1 + len(DEFAULT_SIGNALS)  # the catalog, the database, each table
    assert emulator.call_count("lakeformation", "ListPermissions") == 1 + per_resource

    # and a grant really missing is still found and granted, alone
    cfg = run(emulator).config
    role = firehose_role_arn(emulator, cfg)
    table = {"Table": {"CatalogId": f"123456789012:s3tablescatalog/{cfg.table_bucket_name}"}}
    table["Table"].update(DatabaseName=cfg.namespace, Name="logs")
    emulator.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": role}, Resource=table, Permissions=["ALL"]
    )
    emulator.reset_calls()
    deploy(emulator)
    assert mutating(emulator) == {"lakeformation:BatchGrantPermissions": 1}
