"""The env key's CloudFormation types on the local AWS, through boto3: a KMS key (JSON key policy,
rotation, pending window) and its alias, a log group and a secret encrypted with it, a dead-letter queue,
and a stack delete that schedules the key's deletion and removes the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import WaiterError

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnableIamPolicies",
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _template(window: int = 7, group_key: Any = None) -> str:
    key_ref = group_key if group_key is not None else {"Fn::GetAtt": ["Key", "Arn"]}
    return json.dumps(
        {
            "Resources": {
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {
                        "KeyPolicy": KEY_POLICY,
                        "EnableKeyRotation": True,
                        "PendingWindowInDays": window,
                        "Tags": [{"Key": "otlp2pipeline:env", "Value": "t"}],
                    },
                },
                "Alias": {
                    "Type": "AWS::KMS::Alias",
                    "Properties": {"AliasName": "alias/otlp2pipeline-t", "TargetKeyId": {"Ref": "Key"}},
                },
                "Group": {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {"LogGroupName": "/aws/lambda/t", "KmsKeyId": key_ref},
                },
                "Secret": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {
                        "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                        "GenerateSecretString": {"PasswordLength": 20},
                    },
                },
                "Dlq": {
                    "Type": "AWS::SQS::Queue",
                    "Properties": {
                        "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                        "MessageRetentionPeriod": 1209600,
                    },
                },
            },
            "Outputs": {
                "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
                "KeyId": {"Value": {"Ref": "Key"}},
                "QueueUrl": {"Value": {"Ref": "Dlq"}},
                "SecretArn": {"Value": {"Ref": "Secret"}},
            },
        }
    )


def _outputs(cfn: Any) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName="key-stack")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_env_key_alias_group_secret_and_queue(emulator: Any) -> None:
    cfn, kms, logs, sm, sqs = (
        emulator.client(s) for s in ("cloudformation", "kms", "logs", "secretsmanager", "sqs")
    )
    cfn.create_stack(StackName="key-stack", TemplateBody=_template())
    cfn.get_waiter("stack_create_complete").wait(StackName="key-stack", WaiterConfig={"Delay": 1})
    out = _outputs(cfn)
    key_id = out["KeyId"]
    assert out["KeyArn"] == f"arn:aws:kms:{emulator.region}:{emulator.account_id}:key/{key_id}"
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{emulator.account_id}:root"}
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "otlp2pipeline:env", "TagValue": "t"}]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/otlp2pipeline-t"] == key_id
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/t")["logGroups"]
    assert group["kmsKeyId"] == out["KeyArn"]
    assert sm.describe_secret(SecretId=out["SecretArn"])["KmsKeyId"] == out["KeyArn"]
    attrs = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == out["KeyArn"]
    assert attrs["MessageRetentionPeriod"] == "1209600"

    cfn.delete_stack(StackName="key-stack")
    cfn.get_waiter("stack_delete_complete").wait(StackName="key-stack", WaiterConfig={"Delay": 1})
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"  # scheduled, as CloudFormation does, not deleted
    assert "DeletionDate" in meta
    assert "alias/otlp2pipeline-t" not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/t")["logGroups"] == []
    assert sqs.list_queues().get("QueueUrls", []) == []


@pytest.mark.parametrize("window", [6, 31])
def test_pending_window_out_of_range_fails_the_key(emulator: Any, window: int) -> None:
    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName="key-stack", TemplateBody=_template(window=window))
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="key-stack", WaiterConfig={"Delay": 1})
    events = cfn.describe_stack_events(StackName="key-stack")["StackEvents"]
    assert any(e["LogicalResourceId"] == "Key" and e["ResourceStatus"] == "CREATE_FAILED" for e in events)


def test_log_group_with_a_missing_key_fails(emulator: Any) -> None:
    cfn = emulator.client("cloudformation")
    missing = f"arn:aws:kms:{emulator.region}:{emulator.account_id}:key/00000000-0000-0000-0000-000000000000"
    cfn.create_stack(StackName="key-stack", TemplateBody=_template(group_key=missing))
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="key-stack", WaiterConfig={"Delay": 1})
    events = cfn.describe_stack_events(StackName="key-stack")["StackEvents"]
    (failed,) = [
        e for e in events if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Group"
    ]
    assert "InvalidParameterException" in failed.get("ResourceStatusReason", "")


def _logged_bucket_stack(cfn: Any) -> None:
    body = {
        "Resources": {
            "B": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": "logged-bucket",
                    "LoggingConfiguration": {
                        "DestinationBucketName": "log-target",
                        "LogFilePrefix": "access-logs/t/",
                    },
                },
            }
        }
    }
    cfn.create_stack(StackName="logged", TemplateBody=json.dumps(body))


def test_bucket_access_logs_need_the_target_policy(emulator: Any) -> None:
    """LoggingConfiguration is refused (InvalidTargetBucketForLogging) until the target bucket's policy
    lets logging.s3.amazonaws.com put objects under the prefix; then GetBucketLogging shows it."""
    s3, cfn = emulator.client("s3"), emulator.client("cloudformation")
    s3.create_bucket(Bucket="log-target")
    _logged_bucket_stack(cfn)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="logged", WaiterConfig={"Delay": 1})
    assert "logged-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}  # rolled back
    cfn.delete_stack(StackName="logged")
    cfn.get_waiter("stack_delete_complete").wait(StackName="logged", WaiterConfig={"Delay": 1})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": "arn:aws:s3:::log-target/*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::log-target/access-logs/t/*"},
        ],
    }  # fmt: skip
    s3.put_bucket_policy(Bucket="log-target", Policy=json.dumps(policy))
    _logged_bucket_stack(cfn)
    cfn.get_waiter("stack_create_complete").wait(StackName="logged", WaiterConfig={"Delay": 1})
    logging = s3.get_bucket_logging(Bucket="logged-bucket")["LoggingEnabled"]
    assert logging == {"TargetBucket": "log-target", "TargetPrefix": "access-logs/t/"}
