"""The Firehose role's IAM policy is evaluated at delivery (moto's policy evaluation in the emulator), and the
tool sees and repairs a statement removed outside CloudFormation."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tasks.doctor import (
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_FIREHOSE_ROLE_POLICY,
    ENTRY_GLUE_PERMISSIONS,
    troubleshooting_entry,
)
from tasks.records import encode, make_records, new_run_id
from tasks.steps import firehose_role
from tests.deploy_helpers import deploy, doit, mutating, run

STREAM = "otlp2pipeline-local-logs"
POLICY = "firehose-iceberg-delivery"


def _outputs(emu: Any) -> dict[str, str]:
    stack = emu.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _remove_statement(emu: Any, sid: str) -> None:
    """Out of band: the role's inline policy without one statement, as the console would leave it."""
    iam = emu.client("iam")
    role = _outputs(emu)["FirehoseRoleName"]
    doc = iam.get_role_policy(RoleName=role, PolicyName=POLICY)["PolicyDocument"]
    kept = [st for st in doc["Statement"] if st.get("Sid") != sid]
    assert len(kept) == len(doc["Statement"]) - 1, sid
    iam.put_role_policy(
        RoleName=role, PolicyName=POLICY, PolicyDocument=json.dumps({**doc, "Statement": kept})
    )


def _send(emu: Any, n: int = 3) -> str:
    run_id = new_run_id()
    resp = emu.client("firehose").put_record_batch(
        DeliveryStreamName=STREAM, Records=[{"Data": encode(r)} for r in make_records("logs", run_id, n)]
    )
    assert resp["FailedPutCount"] == 0
    return run_id


def _error_lines(emu: Any) -> list[dict[str, Any]]:
    s3 = emu.client("s3")
    bucket = _outputs(emu)["ErrorBucketName"]
    out = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="errors/logs/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        out += [json.loads(line) for line in body.splitlines() if line.strip()]
    return out


def _logged(emu: Any) -> list[dict[str, Any]]:
    events = emu.client("logs").get_log_events(
        logGroupName="/aws/kinesisfirehose/otlp2pipeline-local", logStreamName="logs-delivery"
    )["events"]
    return [json.loads(e["message"]) for e in events]


@pytest.mark.parametrize(
    ("sid", "action", "code"),
    [
        ("GlueCatalogOfThisTableBucket", "glue:GetTable", "Glue.AccessDenied"),
        ("S3TablesTableData", "s3tables:GetTableMetadataLocation", "Iceberg.AccessDenied"),
        ("LakeFormationCredentialVending", "lakeformation:GetDataAccess", "Iceberg.AccessDenied"),
    ],
)
def test_removed_statement_fails_delivery_naming_the_action_status_shows_it_deploy_repairs_it(
    emulator, tmp_path, sid, action, code
):
    deploy(emulator)
    _remove_statement(emulator, sid)

    run_id = _send(emulator)
    assert emulator.flush() == {"delivered": 0, "failed": 3}
    lines = _error_lines(emulator)
    assert {line["errorCode"] for line in lines} == {code}
    assert all(action in line["errorMessage"] for line in lines)
    assert all(f"{run_id}:".encode() in base64.b64decode(line["rawData"]) for line in lines)
    assert any(e["errorCode"] == code and action in e["message"] for e in _logged(emulator))

    status = doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"drift: update iam role {_outputs(emulator)['FirehoseRoleName']}" in status.stdout
    assert f"statement(s) {sid} differ" in status.stdout

    emulator.reset_calls()
    fixed = doit(emulator, tmp_path, "deploy", "env=local")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert mutating(emulator) == {"iam:PutRolePolicy": 1}
    assert "firehose_role: updated" in fixed.stdout

    _send(emulator)
    assert emulator.flush() == {"delivered": 3, "failed": 0}
    assert all(p.diff is not None and p.diff.empty for p in run(emulator).plan())


def test_without_put_object_on_the_error_prefix_delivery_fails_and_only_the_log_names_it(emulator):
    deploy(emulator)
    _remove_statement(emulator, "ErrorObjects")
    _send(emulator)
    assert emulator.flush() == {"delivered": 0, "failed": 3}
    assert _error_lines(emulator) == []  # the role may not write there: the records are lost, as on AWS
    assert any(
        e["errorCode"] == "S3.AccessDenied" and "s3:PutObject" in e["message"] for e in _logged(emulator)
    )


def test_without_put_log_events_delivery_fails_and_the_error_bucket_names_it(emulator):
    deploy(emulator)
    _remove_statement(emulator, "DeliveryLogs")
    _send(emulator)
    assert emulator.flush() == {"delivered": 0, "failed": 3}
    assert {line["errorCode"] for line in _error_lines(emulator)} == {"CloudWatchLogs.AccessDenied"}
    assert all("logs:PutLogEvents" in line["errorMessage"] for line in _error_lines(emulator))
    assert _logged(emulator) == []


def test_an_explicit_deny_in_an_attached_policy_wins(emulator):
    deploy(emulator)
    iam = emulator.client("iam")
    deny = iam.create_policy(
        PolicyName="deny-update-table",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "glue:UpdateTable", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=_outputs(emulator)["FirehoseRoleName"], PolicyArn=deny)
    _send(emulator)
    assert emulator.flush() == {"delivered": 0, "failed": 3}
    assert all("glue:UpdateTable" in line["errorMessage"] for line in _error_lines(emulator))


def test_converged_env_reads_the_policy_once_and_writes_nothing(emulator):
    deploy(emulator)
    emulator.reset_calls()
    results = {p.name: p for p in run(emulator).plan()}
    assert results[firehose_role.NAME].diff.empty
    assert emulator.call_count("iam", "GetRolePolicy") == 2  # lf_role reads its role's, this step the other
    assert mutating(emulator) == {}


def test_plan_on_a_fresh_env_says_the_stack_creates_the_policy(emulator):
    (change,) = {p.name: p for p in run(emulator).plan()}[firehose_role.NAME].diff.changes
    assert change.action == "create" and "with the stack" in change.reason


def test_doctor_names_the_drifted_firehose_role_policy(emulator, tmp_path):
    deploy(emulator)
    _remove_statement(emulator, "S3TablesTableData")
    out = doit(emulator, tmp_path, "doctor", "env=local")
    assert out.returncode == 1, out.stdout + out.stderr
    assert ENTRY_FIREHOSE_ROLE_POLICY in out.stdout
    assert "FAIL  Firehose role's inline IAM policy is the stack template's" in out.stdout
    assert "statement(s) S3TablesTableData differ" in out.stdout
    assert "fix:   doit deploy env=local" in out.stdout


def test_access_denied_codes_name_their_troubleshooting_entry():
    assert troubleshooting_entry("Glue.AccessDenied") == ENTRY_GLUE_PERMISSIONS
    assert troubleshooting_entry("Iceberg.AccessDenied") == ENTRY_FIREHOSE_GRANTS
    assert troubleshooting_entry("CloudWatchLogs.AccessDenied") == ENTRY_FIREHOSE_ROLE_POLICY
