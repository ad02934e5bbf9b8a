"""The emulator core: admin API, call names, faults, the AWS CLI against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.deploy_helpers import ROOT
from tests.emulator.helpers import REGION, error_code

# -- admin API -------------------------------------------------------------------------------------


def test_health_and_reset_wipe_state(emulator):
    """Health also says whose emulator it is: its checkout, data dir and pid (tasks/emulator_ctl.py)."""
    with urllib.request.urlopen(f"{emulator.endpoint}/_emulator/health") as resp:
        assert json.loads(resp.read()) == {
            "status": "ok",
            "checkout": str(ROOT),
            "data_dir": str(emulator.data_dir.resolve()),
            "pid": os.getpid(),
        }
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="reset-me")
    (emulator.data_dir / "stale.txt").write_text("x")
    emulator.reset()
    assert s3.list_buckets()["Buckets"] == []
    assert not (emulator.data_dir / "stale.txt").exists()


def test_calls_are_named_by_service_and_operation(emulator):
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="calls-bucket")
    s3.put_object(Bucket="calls-bucket", Key="a/b.json", Body=b"{}")
    s3.list_objects_v2(Bucket="calls-bucket")
    s3.get_object(Bucket="calls-bucket", Key="a/b.json")
    s3.delete_objects(Bucket="calls-bucket", Delete={"Objects": [{"Key": "a/b.json"}]})
    emulator.client("sts").get_caller_identity()
    emulator.client("glue").get_catalogs()
    emulator.client("s3tables").list_table_buckets()
    emulator.client("lakeformation").get_data_lake_settings()
    emulator.client("cloudformation").list_stacks()
    emulator.client("logs").describe_log_groups()
    emulator.client("cloudwatch").list_metrics()
    names = {(c["service"], c["operation"]) for c in emulator.calls()}
    assert {
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "ListObjectsV2"),
        ("s3", "GetObject"),
        ("s3", "DeleteObjects"),
        ("sts", "GetCallerIdentity"),
        ("glue", "GetCatalogs"),
        ("s3tables", "ListTableBuckets"),
        ("lakeformation", "GetDataLakeSettings"),
        ("cloudformation", "ListStacks"),
        ("logs", "DescribeLogGroups"),
        ("cloudwatch", "ListMetrics"),
    } <= names
    emulator.reset_calls()
    assert emulator.calls() == []


# -- faults ----------------------------------------------------------------------------------------


def test_fail_mutating_call_fails_the_kth_mutating_call_once(emulator):
    iam = emulator.client("iam", retries={"mode": "standard", "total_max_attempts": 1})
    emulator.set_faults({"fail_mutating_call": {"number": 2, "error_code": "ServiceFailure", "status": 500}})
    doc = json.dumps({"Version": "2012-10-17", "Statement": []})
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=doc)
    iam.list_roles()  # a read: not counted
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="r2", AssumeRolePolicyDocument=doc)
    assert error_code(exc) == "ServiceFailure"
    iam.create_role(RoleName="r2", AssumeRolePolicyDocument=doc)
    state = emulator.faults()
    assert state["fired"] == {"fail_mutating_call": 1}


def test_throttle_is_retried_by_standard_mode_and_counted(emulator):
    emulator.set_faults({"throttle": {"fraction": 0.3, "seed": 3}})
    glue = emulator.client("glue")
    s3 = emulator.client("s3")
    cf = emulator.client("cloudformation")
    for i in range(3):
        glue.create_catalog(Name=f"cat{i}", CatalogInput={})
    s3.create_bucket(Bucket="throttled-bucket")
    cf.list_stacks()
    assert len(glue.get_catalogs()["CatalogList"]) == 3
    fired = emulator.faults()["fired"]["throttle"]
    assert fired > 0
    total = sum(c["count"] for c in emulator.calls())
    assert total == 3 + 1 + 1 + 1 + fired  # every refused call came back as a retry


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "SlowDown", 503),
        ("iam", "Throttling", 400),
        ("cloudformation", "Throttling", 400),
        ("glue", "ThrottlingException", 400),
        ("lakeformation", "ThrottledException", 429),
        ("s3tables", "TooManyRequestsException", 429),
        ("firehose", "LimitExceededException", 400),
    ],
)
def test_throttle_uses_each_services_real_error(emulator, service, code, status):
    emulator.set_faults({"throttle": {"fraction": 1.0, "seed": 1}})
    client = emulator.client(service, retries={"mode": "standard", "total_max_attempts": 1})
    call = {
        "s3": lambda: client.list_buckets(),
        "iam": lambda: client.list_roles(),
        "cloudformation": lambda: client.list_stacks(),
        "glue": lambda: client.get_catalogs(),
        "lakeformation": lambda: client.get_data_lake_settings(),
        "s3tables": lambda: client.list_table_buckets(),
        "firehose": lambda: client.list_delivery_streams(),
    }[service]
    with pytest.raises(ClientError) as exc:
        call()
    assert error_code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_faults_api_rejects_bad_input(emulator):
    req = urllib.request.Request(
        f"{emulator.endpoint}/_emulator/faults",
        data=b'{"throttle": {"fraction": 2}}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req)
    assert exc.value.code == 400


def test_cloudformation_latency_keeps_stack_in_progress(emulator):
    """The hold is an hour while the test looks, then shortened to end a moment from now: what is seen does
    not depend on how fast a loaded machine gets from the create to the reads."""
    cf = emulator.client("cloudformation")
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 3600.0}})
    body = json.dumps(
        {"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "g"}}}}
    )
    before_create = time.monotonic()  # the emulator runs in this process: the same clock
    cf.create_stack(StackName="slow", TemplateBody=body)
    first = cf.describe_stacks(StackName="slow")["Stacks"][0]["StackStatus"]
    statuses = [e["ResourceStatus"] for e in cf.describe_stack_events(StackName="slow")["StackEvents"]]
    assert first == "CREATE_IN_PROGRESS"
    assert "CREATE_COMPLETE" not in statuses
    window = time.monotonic() - before_create + 0.5  # the running hold now ends half a second from now
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": window}})
    cf.get_waiter("stack_create_complete").wait(
        StackName="slow", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert time.monotonic() >= before_create + window  # held to the end of the window, not a moment less
    assert emulator.faults()["fired"]["latency"] == 1


def test_unknown_latency_keys_are_refused(emulator):
    with pytest.raises(urllib.error.HTTPError) as exc:
        emulator.set_faults({"latency": {"s3tables_bucket_seconds": 1}})
    assert exc.value.code == 400


# -- the AWS CLI -----------------------------------------------------------------------------------


def test_aws_cli_against_the_emulator(emulator):
    emulator.client("s3tables").create_table_bucket(name="cli-bucket")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "--endpoint-url",
            emulator.endpoint,
            "s3tables",
            "list-table-buckets",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert [b["name"] for b in json.loads(out.stdout)["tableBuckets"]] == ["cli-bucket"]


def test_caller_identity_arns_follow_the_partition_of_the_region(emulator):
    """GetCallerIdentity in cn-north-1 names an aws-cn ARN, as AWS does (emulator/admin/identity.py)."""
    import boto3

    def sts(region: str):
        return boto3.session.Session().client(
            "sts",
            endpoint_url=emulator.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    account = emulator.account_id
    assert sts("us-east-1").get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/moto"
    assert sts("cn-north-1").get_caller_identity()["Arn"] == f"arn:aws-cn:iam::{account}:user/moto"
    emulator.set_identity({"role_path": "/", "role_name": "Deployer", "session": "deployer"})
    try:
        got = sts("cn-north-1").get_caller_identity()["Arn"]
        assert got == f"arn:aws-cn:sts::{account}:assumed-role/Deployer/deployer"
        assert emulator.identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/Deployer/deployer"
    finally:
        emulator.clear_identity()
