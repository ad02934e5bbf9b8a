"""Retention (a table with a window: retention_days, retention.SIGNAL): the daily schedule, the function and
its role are wired, and the function runs. On a real account, the first proof that retention works there.

The schedule must be ENABLED, fire daily (cron(15 0 * * ? *), UTC) and target the function, through a role
that EventBridge Scheduler may assume and that may invoke the function. The function must run the
retention handler with the config's windows, and its role must allow every call a run makes. Last, the
function is invoked with `{"dry_run": true}`: it reads each table through the S3 Tables Iceberg REST
endpoint and its manifests with its own role, and drops nothing; a run that fails names the table and the
error. The alarms on its runs are checked with the others (test_alarms.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.doctor import deploy_command
from verify import expect


@pytest.fixture(scope="module")
def windows(config) -> dict[str, int]:
    if not config.retention_windows:
        pytest.skip(f"retention off: no table of env {config.env} has a window (retention_days is null)")
    return dict(config.retention_windows)


@pytest.fixture(scope="module")
def function(clients, config, windows) -> dict[str, Any]:
    try:
        return dict(clients.client("lambda").get_function(FunctionName=config.retention_function_name))
    except ClientError as exc:
        pytest.fail(
            f"retention function {config.retention_function_name}: {exc}; run `{deploy_command(config)}`"
        )


def _policies(iam: Any, role_arn: str) -> list[str]:
    from tasks.doctor.ingest import role_policies

    return role_policies(iam, role_arn.rsplit("/", 1)[-1])


def _allowed(policies: list[str], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    verdict = False
    for doc in policies:
        result = IAMPolicy(doc).is_action_permitted(action, resource, incoming_condition_values=context)
        if result == PermissionResult.DENIED:
            return False
        verdict = verdict or result == PermissionResult.PERMITTED
    return verdict


def test_the_schedule_runs_the_function_daily(clients, config, function):
    name = config.retention_schedule_name
    try:
        schedule = clients.client("scheduler").get_schedule(Name=name)
    except ClientError as exc:
        pytest.fail(f"schedule {name}: {exc}; run `{deploy_command(config)}`")
    target = schedule.get("Target") or {}
    arn = function["Configuration"]["FunctionArn"]
    assert schedule.get("State") == "ENABLED", f"schedule {name} is {schedule.get('State')}"
    assert schedule.get("ScheduleExpression") == expect.RETENTION_SCHEDULE, schedule.get("ScheduleExpression")
    assert schedule.get("ScheduleExpressionTimezone", "UTC") == "UTC"
    assert target.get("Arn") == arn, f"schedule {name} targets {target.get('Arn')}, not {arn}"
    assert "<aws.scheduler.scheduled-time>" in str(target.get("Input", "")), target.get("Input")
    role_arn = str(target.get("RoleArn", ""))
    role = clients.iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    services = [
        p
        for st in trust.get("Statement", [])
        for p in ([st.get("Principal", {}).get("Service")] if isinstance(st.get("Principal"), dict) else [])
    ]
    assert "scheduler.amazonaws.com" in str(services), f"{role_arn} does not trust scheduler.amazonaws.com"
    assert _allowed(_policies(clients.iam, role_arn), "lambda:InvokeFunction", arn), (
        f"{role_arn} may not lambda:InvokeFunction on {arn}"
    )


def test_the_function_runs_the_config_windows(config, function, windows):
    conf = function["Configuration"]
    env = (conf.get("Environment") or {}).get("Variables") or {}
    assert conf.get("Handler") == expect.RETENTION_HANDLER
    assert conf.get("State", "Active") == "Active", conf.get("StateReason")
    want = ",".join(f"{t}={d}" for t, d in windows.items())
    assert env.get("RETENTION_WINDOWS") == want, (
        f"the function runs with windows {env.get('RETENTION_WINDOWS')!r}, the config says {want!r}: "
        f"run `{deploy_command(config)}`"
    )


def test_the_function_role_may_drop_days(clients, config, account_id, function, windows):
    role_arn = function["Configuration"]["Role"]
    policies = _policies(clients.iam, role_arn)
    bucket = config.table_bucket_arn(account_id)
    assert _allowed(policies, "s3tables:GetTableBucket", bucket), f"{role_arn}: GetTableBucket on {bucket}"
    for table in windows:
        try:
            arn = clients.s3tables.get_table(tableBucketARN=bucket, namespace=config.namespace, name=table)[
                "tableARN"
            ]
        except ClientError:
            continue  # not created yet: the run skips it
        for action in (
            "s3tables:GetTableMetadataLocation",
            "s3tables:GetTableData",
            "s3tables:PutTableData",
            "s3tables:UpdateTableMetadataLocation",
        ):
            assert _allowed(policies, action, arn), f"{role_arn} may not {action} on {arn}"
    context = {"cloudwatch:namespace": "otlp2pipeline/Retention"}
    assert _allowed(policies, "cloudwatch:PutMetricData", "*", context), f"{role_arn}: PutMetricData"


def test_a_dry_run_of_the_function_reads_every_table(clients, config, function, windows):
    out = clients.client("lambda").invoke(
        FunctionName=config.retention_function_name, Payload=json.dumps({"dry_run": True}).encode()
    )
    body = out["Payload"].read()
    assert "FunctionError" not in out, (
        f"the retention function's dry run failed: {body[:2000]!r} (its log: "
        f"/aws/lambda/{config.retention_function_name})"
    )
    report = json.loads(body)
    assert report["dry_run"] is True and not report["failed"], report
    assert {t["table"] for t in report["tables"]} == set(windows)
    assert all(t["state"] in ("nothing", "would drop", "missing") for t in report["tables"]), report
