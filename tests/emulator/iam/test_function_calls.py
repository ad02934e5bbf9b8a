"""A Lambda function's calls are judged by its role's IAM policies on the local AWS (emulator/iam/calls.py):
the S3 Tables Iceberg REST calls (GetConfig, LoadTable, UpdateTable need their s3tables actions on the
bucket or the table) and PutMetricData (in the namespace its policy names). Other callers are not judged
here. The worker's credentials are registered as Lambda's runtime registers them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.iam import calls
from emulator.testing import service_trust
from lake import sessions
from lake.iceberg_rest import IcebergRest
from tests.emulator.s3tables.test_s3tables_api import NS, bucket, create

ACCOUNT = "123456789012"


def _function_session(emu: Any, statements: list[dict[str, Any]]) -> Any:
    """A session with the credentials Lambda gives a worker of a function whose role holds `statements`."""
    iam = emu.client("iam")
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(service_trust("lambda.amazonaws.com"))
    )
    arn = role["Role"]["Arn"]
    if statements:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName="fn", PolicyName="fn", PolicyDocument=json.dumps(policy))
    creds = emu.client("sts").assume_role(RoleArn=arn, RoleSessionName="fn")["Credentials"]
    calls.register_worker(creds["AccessKeyId"], ACCOUNT, arn)
    return sessions.session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _rest(emu: Any, session: Any, arn: str) -> IcebergRest:
    return IcebergRest(session, "us-east-1", emu.endpoint, arn)


def test_a_functions_rest_calls_need_their_actions_on_the_bucket_and_its_tables(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    reads: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": "s3tables:GetTableBucket", "Resource": arn},
        {
            "Effect": "Allow",
            "Action": ["s3tables:GetTableMetadataLocation", "s3tables:GetTableData"],
            "Resource": f"{arn}/table/*",
        },
    ]
    rest = _rest(emulator, _function_session(emulator, reads), arn)
    loaded = rest.load_table(NS, "logs")
    assert loaded is not None
    meta = loaded["metadata"]
    requirement = {"type": "assert-current-schema-id", "current-schema-id": meta["current-schema-id"]}
    update = {"action": "set-properties", "updates": {"owner": "retention"}}
    with pytest.raises(ClientError) as err:
        rest.commit(NS, "logs", [requirement], [update])
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "ForbiddenException"
    assert (
        "is not authorized to perform: s3tables:UpdateTableMetadataLocation on resource: " in error["Message"]
    )
    assert f"{arn}/table/" in error["Message"]


def test_without_the_bucket_action_even_get_config_is_refused(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    rest = _rest(emulator, _function_session(emulator, []), arn)
    with pytest.raises(ClientError) as err:
        rest.load_table(NS, "logs")
    assert err.value.operation_name == "GetConfig"
    assert "s3tables:GetTableBucket" in err.value.response["Error"]["Message"]


def test_a_function_publishes_metrics_only_in_the_namespace_its_role_names(emulator):
    statement = {
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "otlp2pipeline/Retention"}},
    }
    cloudwatch = _function_session(emulator, [statement]).client("cloudwatch", endpoint_url=emulator.endpoint)
    datum = [{"MetricName": "RunFailed", "Value": 0.0, "Unit": "Count"}]
    cloudwatch.put_metric_data(Namespace="otlp2pipeline/Retention", MetricData=datum)
    with pytest.raises(ClientError) as err:
        cloudwatch.put_metric_data(Namespace="Other", MetricData=datum)
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "cloudwatch:PutMetricData" in err.value.response["Error"]["Message"]
    # the tool's own caller is not a function's: not judged here
    emulator.client("cloudwatch").put_metric_data(Namespace="Other", MetricData=datum)
