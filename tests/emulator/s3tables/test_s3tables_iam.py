"""IAM on S3 Tables' read path (emulator/s3tables/access.py): credentials the local AWS issued (an assumed
role, an IAM user's key) need an IAM policy allowing ListTables, GetTable and GetTableMetadataLocation on
the bucket or table; the local caller's own credentials are not evaluated."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, NAMESPACE, create_table, error_code, iam_principal

ROLE = f"arn:aws:iam::{ACCOUNT}:role/people/reader"


def _client(emu: Any, creds: dict[str, str]) -> Any:
    return boto3.client(
        "s3tables",
        endpoint_url=emu.endpoint,
        region_name=emu.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )


@pytest.fixture
def bucket(emulator: Any) -> str:
    s3t = emulator.client("s3tables")
    arn = str(s3t.create_table_bucket(name="iam-read")["arn"])
    s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    create_table(s3t, arn, "logs")
    return arn


def _policy(bucket: str, *actions: str, table: bool = True) -> str:
    resource = f"{bucket}/table/*" if table else bucket
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
        }
    )


def _denied(exc: pytest.ExceptionInfo[ClientError], action: str) -> None:
    assert error_code(exc) == "AccessDeniedException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    message = exc.value.response["Error"]["Message"]
    assert f"is not authorized to perform: {action} on resource: arn:aws:s3tables:" in message


def test_an_assumed_role_needs_an_iam_policy_for_each_read(emulator, bucket):
    iam = emulator.client("iam")
    iam_principal(iam, ROLE)
    creds = emulator.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="duckdb")["Credentials"]
    s3t = _client(emulator, creds)
    for call, action in (
        (lambda: s3t.list_tables(tableBucketARN=bucket, namespace=NAMESPACE), "s3tables:ListTables"),
        (lambda: s3t.get_table(tableBucketARN=bucket, namespace=NAMESPACE, name="logs"), "s3tables:GetTable"),
        (
            lambda: s3t.get_table_metadata_location(tableBucketARN=bucket, namespace=NAMESPACE, name="logs"),
            "s3tables:GetTableMetadataLocation",
        ),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        _denied(exc, action)
        assert f"assumed-role/reader/duckdb is not authorized to perform: {action}" in str(exc.value)
    iam.put_role_policy(
        RoleName="reader",
        PolicyName="list",
        PolicyDocument=_policy(bucket, "s3tables:ListTables", table=False),
    )
    iam.put_role_policy(
        RoleName="reader",
        PolicyName="read",
        PolicyDocument=_policy(bucket, "s3tables:GetTable", "s3tables:GetTableMetadataLocation"),
    )
    assert [t["name"] for t in s3t.list_tables(tableBucketARN=bucket, namespace=NAMESPACE)["tables"]] == [
        "logs"
    ]
    assert s3t.get_table(tableBucketARN=bucket, namespace=NAMESPACE, name="logs")["name"] == "logs"
    loc = s3t.get_table_metadata_location(tableBucketARN=bucket, namespace=NAMESPACE, name="logs")
    assert loc["metadataLocation"]


def test_a_policy_on_another_bucket_or_a_deny_does_not_allow(emulator, bucket):
    iam = emulator.client("iam")
    iam_principal(iam, ROLE)
    other = bucket.replace("iam-read", "other")
    iam.put_role_policy(RoleName="reader", PolicyName="other", PolicyDocument=_policy(other, "s3tables:*"))
    creds = emulator.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="duckdb")["Credentials"]
    s3t = _client(emulator, creds)
    with pytest.raises(ClientError) as exc:
        s3t.get_table_metadata_location(tableBucketARN=bucket, namespace=NAMESPACE, name="logs")
    _denied(exc, "s3tables:GetTableMetadataLocation")
    deny = json.loads(_policy(bucket, "s3tables:GetTableMetadataLocation"))
    deny["Statement"][0]["Effect"] = "Deny"
    iam.put_role_policy(RoleName="reader", PolicyName="all", PolicyDocument=_policy(bucket, "s3tables:*"))
    iam.put_role_policy(RoleName="reader", PolicyName="deny", PolicyDocument=json.dumps(deny))
    with pytest.raises(ClientError) as exc:
        s3t.get_table_metadata_location(tableBucketARN=bucket, namespace=NAMESPACE, name="logs")
    _denied(exc, "s3tables:GetTableMetadataLocation")


def test_an_iam_users_key_is_evaluated_with_its_attached_managed_policy(emulator, bucket):
    iam = emulator.client("iam")
    iam.create_user(UserName="analyst")
    key = iam.create_access_key(UserName="analyst")["AccessKey"]
    s3t = _client(emulator, key)
    with pytest.raises(ClientError) as exc:
        s3t.list_tables(tableBucketARN=bucket, namespace=NAMESPACE)
    assert (
        f"User: arn:aws:iam::{ACCOUNT}:user/analyst is not authorized"
        in exc.value.response["Error"]["Message"]
    )
    arn = iam.create_policy(
        PolicyName="list", PolicyDocument=_policy(bucket, "s3tables:ListTables", table=False)
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="analyst", PolicyArn=arn)
    assert s3t.list_tables(tableBucketARN=bucket, namespace=NAMESPACE)["tables"]


def test_the_local_callers_own_credentials_are_not_evaluated(emulator, bucket):
    s3t = emulator.client("s3tables")
    assert s3t.list_tables(tableBucketARN=bucket, namespace=NAMESPACE)["tables"]
    assert s3t.get_table_metadata_location(tableBucketARN=bucket, namespace=NAMESPACE, name="logs")
