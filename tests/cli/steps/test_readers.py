"""Readers (the `readers` setting, tasks/steps/readers.py) on the local AWS: deploy grants each reader Lake
Formation read access and records it; plan and status show each reader's grants and their drift; removing a
reader revokes exactly the tool's grants; bad readers are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.step import Options
from tests.cli import readers_helpers as rh
from tests.cli.readers_helpers import ANALYST, GRAFANA, READ, RECORD
from tests.deploy_helpers import deploy, doit, mutating, run


@pytest.fixture
def emu(emulator: Any) -> Any:
    rh.people(emulator)
    return emulator


def _record(emu: Any) -> str | None:
    try:
        return str(emu.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Value"])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ParameterNotFound"
        return None


def _changes(r: Any) -> list[str]:
    res = r.results["readers"]
    assert res.error is None, res.error
    return [c.lines()[0] for c in res.diff.changes]


def test_a_reader_gets_read_grants_recorded_and_a_converged_deploy_writes_nothing(emu):
    deploy(emu, rh.with_readers(ANALYST, GRAFANA))
    assert rh.grants_of(emu, ANALYST) == READ and rh.grants_of(emu, GRAFANA) == READ
    assert _record(emu) == f"{GRAFANA}\n{ANALYST}"
    tags = emu.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=RECORD)["TagList"]
    assert {"Key": "otlp2pipeline-env", "Value": "local"} in tags
    emu.reset_calls()
    r = deploy(emu, rh.with_readers(ANALYST, GRAFANA))
    assert mutating(emu) == {}
    assert r.results["readers"].outcome.result == "unchanged"
    reads = {(c["service"], c["operation"]) for c in emu.calls()}
    assert ("ssm", "GetParameter") in reads  # the record: the step's one read of its own
    assert emu.call_count("lakeformation", "ListPermissions") == 1  # shared with the Firehose role's grants


def test_plan_and_status_show_each_readers_grants_and_drift_and_deploy_restores_it(emu, tmp_path):
    overrides = rh.with_readers(ANALYST)
    deploy(emu, overrides)
    emu.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": ANALYST},
        Resource={"Table": {"CatalogId": rh.CATALOG_ID, "DatabaseName": "default", "Name": "logs"}},
        Permissions=["SELECT"],
    )
    args = [f"{k}={v}" for k, v in overrides.items()]
    status = doit(emu, tmp_path, "status", "env=local", *args)
    assert status.returncode == 1, status.stdout + status.stderr
    assert (
        f"[DRIFT] reader {ANALYST}: database default: DESCRIBE; tables logs: DESCRIBE; tables traces: "
        in (status.stdout)
    )
    assert (
        f"drift: create lake formation grant SELECT,DESCRIBE on table default.logs to reader {ANALYST}"
        in (status.stdout)
    )
    plan = doit(emu, tmp_path, "plan", "env=local", *args, "format=json")
    assert plan.returncode == 0, plan.stderr
    (step,) = [s for s in json.loads(plan.stdout)["steps"] if s["step"] == "readers"]
    assert [c["resource"] for c in step["changes"]] == [
        f"lake formation grant SELECT,DESCRIBE on table default.logs to reader {ANALYST}"
    ]
    assert step["changes"][0]["fields"]["Permissions"] == {
        "observed": ["DESCRIBE"],
        "desired": ["SELECT", "DESCRIBE"],
    }
    emu.reset_calls()
    deploy(emu, overrides)
    assert mutating(emu) == {"lakeformation:BatchGrantPermissions": 1}
    assert rh.grants_of(emu, ANALYST) == READ
    status = doit(emu, tmp_path, "status", "env=local", *args)
    assert status.returncode == 0 and "\nhealthy\n" in status.stdout, status.stdout
    assert f"[ok   ] reader {ANALYST}: database default: DESCRIBE; tables logs, traces: DESCRIBE, SELECT" in (
        status.stdout
    )


def test_removing_a_reader_revokes_exactly_the_tools_grants_and_nothing_else(emu):
    deploy(emu, rh.with_readers(ANALYST, GRAFANA))
    rh.grant(emu, ANALYST, "logs", "ALTER")  # someone else's grant to the same principal
    outsider = f"arn:aws:iam::{rh.ACCOUNT}:role/people/auditor"  # granted by hand, never a reader
    rh.iam_principal(emu.client("iam"), outsider)
    rh.grant(emu, outsider, None, "DESCRIBE")
    rh.grant(emu, outsider, "logs", "SELECT", "DESCRIBE")
    firehose_before = _firehose_grants(emu)
    plan = run(emu, rh.with_readers(GRAFANA)).plan()
    (readers,) = [r for r in plan if r.name == "readers"]
    gone = "(no longer in readers)"
    assert [c.lines()[0] for c in readers.diff.changes] == [
        f"delete lake formation grant DESCRIBE on database default to {ANALYST} {gone}",
        f"delete lake formation grant SELECT,DESCRIBE on table default.logs to {ANALYST} {gone}",
        f"delete lake formation grant SELECT,DESCRIBE on table default.traces to {ANALYST} {gone}",
        f"update ssm parameter {RECORD} (the principals deploy granted read access to)",
    ]
    emu.reset_calls()
    deploy(emu, rh.with_readers(GRAFANA))
    assert mutating(emu) == {"lakeformation:BatchRevokePermissions": 1, "ssm:PutParameter": 1}
    assert rh.grants_of(emu, ANALYST) == {("table", "logs"): {"ALTER"}}
    assert rh.grants_of(emu, GRAFANA) == READ
    assert rh.grants_of(emu, outsider) == {
        ("database", "default"): {"DESCRIBE"},
        ("table", "logs"): {"SELECT", "DESCRIBE"},
    }
    assert _firehose_grants(emu) == firehose_before
    assert _record(emu) == GRAFANA
    deploy(emu, rh.with_readers())  # the last reader goes: so does the record
    assert rh.grants_of(emu, GRAFANA) == {}
    assert _record(emu) is None
    emu.reset_calls()
    deploy(emu, rh.with_readers())
    assert mutating(emu) == {}


def _firehose_grants(emu: Any) -> dict[tuple[str, ...], set[str]]:
    stack = emu.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    role = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["FirehoseRoleArn"]
    return rh.grants_of(emu, role)


def test_a_reader_reads_kept_tables_and_drop_revokes_its_grants_before_the_table_goes(emu):
    deploy(emu, rh.with_readers(ANALYST))
    deploy(emu, rh.with_readers(ANALYST, signals="logs"))  # traces is kept, and still readable
    assert rh.grants_of(emu, ANALYST) == READ
    r = run(emu, rh.with_readers(ANALYST, signals="logs"), options=Options(drop=("traces",)))
    r.deploy_sequential()
    assert rh.grants_of(emu, ANALYST) == {k: v for k, v in READ.items() if k != ("table", "traces")}
    assert _changes(r) == [
        f"delete lake formation grant SELECT,DESCRIBE on table default.traces to {ANALYST} "
        "(drop=traces deletes the table)"
    ]


def test_a_reader_that_names_no_iam_principal_fails_as_lake_formation_does(emu, tmp_path):
    ghost = f"arn:aws:iam::{rh.ACCOUNT}:role/people/ghost"
    out = doit(emu, tmp_path, "deploy", "env=local", *[f"{k}={v}" for k, v in rh.with_readers(ghost).items()])
    assert out.returncode == 1, out.stdout + out.stderr
    assert (
        f"deploy:readers failed: error: Lake Formation refused to grant read access to {ghost}: "
        f"InvalidInputException: Invalid path for user, arn: {ghost}: the reader must name an existing IAM "
        "role or user, path included"
    ) in out.stderr, out.stderr
    # recorded before the grant: a fix of the setting revokes whatever it might hold, and nothing else
    assert _record(emu) == ghost
    deploy(emu, rh.with_readers())
    assert _record(emu) is None


def test_a_reader_of_another_account_is_refused_before_any_write(emu, tmp_path):
    other = "arn:aws:iam::210987654321:role/analyst"
    for command in ("plan", "deploy"):
        emu.reset_calls()
        out = doit(
            emu, tmp_path, command, "env=local", *[f"{k}={v}" for k, v in rh.with_readers(other).items()]
        )
        assert out.returncode == 2, out.stdout + out.stderr
        assert (
            f"error: readers[0]={other!r} is in account 210987654321, not the env's account 123456789012: "
            "readers must be IAM roles or users of the env's account"
        ) in out.stderr
        assert mutating(emu) == {}
        assert [c["operation"] for c in emu.calls()] == ["GetCallerIdentity"]


def test_destroy_revokes_the_readers_grants_and_deletes_the_record(emu, tmp_path):
    overrides = rh.with_readers(ANALYST)
    deploy(emu, overrides)
    rh.grant(emu, ANALYST, "logs", "ALTER")  # not the tool's: destroy leaves it to whoever gave it
    args = [f"{k}={v}" for k, v in overrides.items()]
    out = doit(emu, tmp_path, "destroy", "env=local", "force=1", *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        f"3 Lake Formation grant(s) to readers ({ANALYST}) and the record of readers {RECORD}" in out.stdout
    )
    assert _record(emu) is None
    assert rh.grants_of(emu, ANALYST) == {("table", "logs"): {"ALTER"}}
    again = doit(emu, tmp_path, "destroy", "env=local", "force=1", *args)
    assert again.returncode == 0 and "nothing to delete" in again.stdout, again.stdout + again.stderr


def test_destroy_detaches_the_readers_policy_from_whoever_holds_it_then_the_stack_deletes_it(emu, tmp_path):
    overrides = rh.with_readers(ANALYST)
    deploy(emu, overrides)
    policy = rh.attach_readers_policy(emu, ANALYST)
    rh.attach_readers_policy(emu, GRAFANA)  # attached by someone, though no reader
    iam = emu.client("iam")
    own = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    other = iam.create_policy(PolicyName="analyst-own", PolicyDocument=json.dumps(own))
    iam.attach_role_policy(RoleName="analyst", PolicyArn=other["Policy"]["Arn"])
    args = [f"{k}={v}" for k, v in overrides.items()]
    out = doit(emu, tmp_path, "destroy", "env=local", "force=1", *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"readers policy {policy}: detached from role analyst, role grafana, then deleted" in out.stdout
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=policy)
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    # the roles stay, with everything else attached to them
    kept = iam.list_attached_role_policies(RoleName="analyst")["AttachedPolicies"]
    assert [p["PolicyName"] for p in kept] == ["analyst-own"]
    assert iam.list_attached_role_policies(RoleName="grafana")["AttachedPolicies"] == []
