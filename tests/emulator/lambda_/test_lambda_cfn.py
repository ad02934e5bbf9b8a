"""The local Lambda's CloudFormation types through boto3's cloudformation client: Function (code from the
local S3, updates in place), Url, Permission, and a Secret with GenerateSecretString."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tests.emulator.lambda_.helpers import ECHO, LAMBDA_TRUST, LOGS_POLICY, http, make_zip

BUCKET = "artifacts"


def template(key: str, secret_props: dict[str, Any] | None = None, memory: int = 128) -> str:
    resources: dict[str, Any] = {
        "FnRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": LAMBDA_TRUST,
                "Policies": [{"PolicyName": "logs", "PolicyDocument": LOGS_POLICY}],
            },
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "stack-fn",
                "Runtime": "python3.12",
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
                "Code": {"S3Bucket": BUCKET, "S3Key": key},
                "MemorySize": memory,
                "Timeout": 10,
                "Architectures": ["arm64"],
                "ReservedConcurrentExecutions": 5,
                "Environment": {"Variables": {"SECRET_ARN": {"Ref": "Token"}}},
                "LoggingConfig": {"LogGroup": "/aws/lambda/stack-fn", "LogFormat": "Text"},
            },
        },
        "FnUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "NONE"},
        },
        "FnUrlPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "Action": "lambda:InvokeFunctionUrl",
                "Principal": "*",
                "FunctionUrlAuthType": "NONE",
            },
        },
        "FnUrlInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "Action": "lambda:InvokeFunction",
                "Principal": "*",
                "InvokedViaFunctionUrl": True,
            },
        },
        "Token": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": secret_props
            or {
                "GenerateSecretString": {
                    "PasswordLength": 40,
                    "ExcludePunctuation": True,
                    "ExcludeCharacters": "abc",
                }
            },
        },
    }
    outputs = {
        "Endpoint": {"Value": {"Fn::GetAtt": ["FnUrl", "FunctionUrl"]}},
        "UrlFunctionArn": {"Value": {"Fn::GetAtt": ["FnUrl", "FunctionArn"]}},
        "FunctionArn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}},
        "SecretArn": {"Value": {"Ref": "Token"}},
    }
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, "Outputs": outputs})


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _deploy(cfn: Any, body: str, update: bool = False) -> None:
    if update:
        cfn.update_stack(StackName="fn-stack", TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
        cfn.get_waiter("stack_update_complete").wait(StackName="fn-stack", WaiterConfig={"Delay": 1})
    else:
        cfn.create_stack(StackName="fn-stack", TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
        cfn.get_waiter("stack_create_complete").wait(StackName="fn-stack", WaiterConfig={"Delay": 1})


def test_stack_with_function_url_permission_and_secret(emulator: Any) -> None:
    s3, cfn, lam, sm = (emulator.client(s) for s in ("s3", "cloudformation", "lambda", "secretsmanager"))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="v1.zip", Body=make_zip({"app.py": ECHO}))
    _deploy(cfn, template("v1.zip"))
    out = _outputs(cfn, "fn-stack")
    assert out["Endpoint"].startswith(f"{emulator.endpoint}/_lambda-url/") and out["Endpoint"].endswith("/")
    assert out["UrlFunctionArn"] == out["FunctionArn"]
    assert out["SecretArn"].startswith(
        f"arn:aws:secretsmanager:{emulator.region}:{emulator.account_id}:secret:"
    )

    value = sm.get_secret_value(SecretId=out["SecretArn"])["SecretString"]
    assert len(value) == 40
    assert not set(value) & set(string.punctuation + "abc")

    config = lam.get_function(FunctionName="stack-fn")
    assert config["Configuration"]["Architectures"] == ["arm64"]
    assert config["Concurrency"]["ReservedConcurrentExecutions"] == 5
    assert config["Configuration"]["LoggingConfig"]["LogGroup"] == "/aws/lambda/stack-fn"

    status, _, body = http("POST", out["Endpoint"] + "v1/traces", b"{}", {"Content-Type": "application/json"})
    assert status == 200
    seen = json.loads(body)
    assert seen["event"]["rawPath"] == "/v1/traces"
    assert seen["env"]["SECRET_ARN"] == out["SecretArn"]

    v2 = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v2'}\n"
    s3.put_object(Bucket=BUCKET, Key="v2.zip", Body=make_zip({"app.py": v2}))
    _deploy(cfn, template("v2.zip", memory=256), update=True)
    assert http("GET", out["Endpoint"])[2] == b"v2"
    assert lam.get_function_configuration(FunctionName="stack-fn")["MemorySize"] == 256
    assert _outputs(cfn, "fn-stack")["Endpoint"] == out["Endpoint"]
    assert sm.get_secret_value(SecretId=out["SecretArn"])["SecretString"] == value

    cfn.delete_stack(StackName="fn-stack")
    cfn.get_waiter("stack_delete_complete").wait(StackName="fn-stack", WaiterConfig={"Delay": 1})
    assert lam.list_functions()["Functions"] == []
    assert sm.list_secrets()["SecretList"] == []
    assert http("GET", out["Endpoint"])[0] == 404


def test_secret_template_and_key(emulator: Any) -> None:
    cfn, sm = emulator.client("cloudformation"), emulator.client("secretsmanager")
    body = {
        "Resources": {
            "S": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": "otlp/token",
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"user": "otlp"}',
                        "GenerateStringKey": "token",
                        "PasswordLength": 16,
                        "ExcludeUppercase": True,
                        "ExcludeNumbers": True,
                        "ExcludePunctuation": True,
                    },
                },
            }
        }
    }
    cfn.create_stack(StackName="secret-stack", TemplateBody=json.dumps(body))
    cfn.get_waiter("stack_create_complete").wait(StackName="secret-stack", WaiterConfig={"Delay": 1})
    value = json.loads(sm.get_secret_value(SecretId="otlp/token")["SecretString"])
    assert value["user"] == "otlp"
    assert len(value["token"]) == 16 and set(value["token"]) <= set(string.ascii_lowercase)


def test_missing_code_key_fails_the_function(emulator: Any) -> None:
    s3, cfn = emulator.client("s3"), emulator.client("cloudformation")
    s3.create_bucket(Bucket=BUCKET)
    cfn.create_stack(
        StackName="fn-stack", TemplateBody=template("absent.zip"), Capabilities=["CAPABILITY_IAM"]
    )
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="fn-stack", WaiterConfig={"Delay": 1})
    events = cfn.describe_stack_events(StackName="fn-stack")["StackEvents"]
    failed = [e for e in events if e["LogicalResourceId"] == "Fn" and e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and "NoSuchKey" in failed[0]["ResourceStatusReason"]
    assert cfn.describe_stacks(StackName="fn-stack")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
