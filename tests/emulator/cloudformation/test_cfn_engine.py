"""The emulator's CloudFormation engine: rollback with a reason, IAM capabilities."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, REGION, error_code


def test_create_failure_rolls_back_with_reason(emulator):
    cf = emulator.client("cloudformation")
    body = json.dumps(
        {
            "Resources": {
                "Bucket": {
                    "Type": "AWS::S3Tables::TableBucket",
                    "Properties": {"TableBucketName": "ok-bucket"},
                },
                "Bad": {
                    "Type": "AWS::S3Tables::Namespace",
                    "Properties": {
                        "TableBucketARN": f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/missing",
                        "Namespace": "x",
                    },
                },
            }
        }
    )
    cf.create_stack(StackName="broken", TemplateBody=body)
    stack = cf.describe_stacks(StackName="broken")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cf.describe_stack_events(StackName="broken")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Bad" and failed[0]["ResourceStatusReason"]
    assert emulator.client("s3tables").list_table_buckets()["tableBuckets"] == []


def test_iam_templates_need_capabilities(emulator):
    cf = emulator.client("cloudformation")
    body = json.dumps(
        {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                        "Policies": [
                            {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
                        ],
                    },
                }
            }
        }
    )
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="iam", TemplateBody=body)
    assert error_code(exc) == "InsufficientCapabilitiesException"
    cf.create_stack(StackName="iam", TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
    role = cf.describe_stack_resource(StackName="iam", LogicalResourceId="Role")["StackResourceDetail"]
    iam = emulator.client("iam")
    assert iam.list_role_policies(RoleName=role["PhysicalResourceId"])["PolicyNames"] == ["p"]
