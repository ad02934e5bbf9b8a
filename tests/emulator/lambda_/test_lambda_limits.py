"""AWS Lambda limits the local AWS enforces as AWS does: the 6 MB synchronous limit on the whole Function
URL event (a binary body is base64 in it), no function URLs where Lambda has none, released runtimes only
and none blocked for create or update (cfn-lint's lifecycle data, on the local AWS's clock), and a URL's
SigV4 scope naming the function's region and service."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, WaiterError

from emulator.testing import public_url_permissions
from lake import lambda_facts, sessions
from tests.emulator.lambda_.helpers import LAMBDA_TRUST, create_function, create_role, http, make_zip

# Answers the size of the body it was given, so a big body does not come back as a big response.
SIZE = """
def handler(event, context):
    size = len(event.get("body") or "")
    return {"statusCode": 200, "body": f"{size} {event['isBase64Encoded']}"}
"""
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def client_in(emu: Any, service: str, region: str) -> Any:
    return sessions.session().client(  # type: ignore[call-overload]  # a service named at run time
        service,
        endpoint_url=emu.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _public_url(emu: Any, name: str, code: str = SIZE) -> str:
    lam = emu.client("lambda")
    create_function(emu, name, make_zip({"app.py": code}))
    url = str(lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"])
    public_url_permissions(lam, name)
    return url


# -- the synchronous payload limit counts the event ------------------------------------------------------


def test_a_5_000_084_byte_protobuf_body_is_refused_as_its_event_exceeds_6_mb(emulator: Any) -> None:
    url = _public_url(emulator, "sized")
    body = b"\x0a" * 5_000_084  # base64: 6,666,780 bytes of event body
    status, _, answer = http("POST", url + "v1/traces", body, PROTOBUF)
    assert (status, json.loads(answer)) == (413, {"Message": "Request Entity Too Large"})
    # The same bytes as text travel unencoded: the event fits, so the limit is on the event, not the body.
    status, _, answer = http("POST", url + "v1/traces", b"x" * 5_000_084, {"Content-Type": "text/plain"})
    assert (status, answer) == (200, b"5000084 False")
    # A binary body whose base64 event still fits is invoked.
    fits = (lambda_facts.SYNC_PAYLOAD_LIMIT - 16_384) * 3 // 4
    status, _, answer = http("POST", url + "v1/traces", b"\x0a" * fits, PROTOBUF)
    assert status == 200 and answer.endswith(b" True")


# -- regions without function URLs -------------------------------------------------------------------


@pytest.mark.parametrize("region", ["ca-west-1", "eu-south-2", "il-central-1"])
def test_no_function_url_api_where_lambda_has_none(emulator: Any, region: str) -> None:
    lam = client_in(emulator, "lambda", region)
    lam.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Handler="app.handler",
        Role=create_role(emulator, f"role-{region}"),
        Code={"ZipFile": make_zip({"app.py": SIZE})},
    )
    for call in (
        lambda: lam.create_function_url_config(FunctionName="fn", AuthType="NONE"),
        lambda: lam.list_function_url_configs(FunctionName="fn"),
        lambda: lam.get_function_url_config(FunctionName="fn"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "Unable to determine service/operation name" in err.value.response["Error"]["Message"]
    assert client_in(emulator, "lambda", "us-east-1").list_functions()["Functions"] == []


def _url_template() -> str:
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": SIZE},
            },
        },
        "Url": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "NONE"},
        },
    }
    return json.dumps({"Resources": resources})


def test_a_stack_with_a_url_is_refused_where_cloudformation_lacks_the_type(emulator: Any) -> None:
    cfn = client_in(emulator, "cloudformation", "ca-west-1")
    with pytest.raises(ClientError) as err:
        cfn.create_stack(StackName="urls", TemplateBody=_url_template(), Capabilities=["CAPABILITY_IAM"])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "Unrecognized resource types: [AWS::Lambda::Url]" in err.value.response["Error"]["Message"]


def test_a_url_resource_fails_where_lambda_has_no_urls_and_the_stack_rolls_back(emulator: Any) -> None:
    cfn = client_in(emulator, "cloudformation", "eu-south-2")  # CloudFormation knows the type there
    cfn.create_stack(StackName="urls", TemplateBody=_url_template(), Capabilities=["CAPABILITY_IAM"])
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="urls", WaiterConfig={"Delay": 1})
    events = cfn.describe_stack_events(StackName="urls")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Url"]
    assert failed and "Unable to determine service/operation name" in failed[0]["ResourceStatusReason"]
    assert cfn.describe_stacks(StackName="urls")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"


# -- runtimes: released, and not blocked ---------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["python3.6", "python3.7"])
def test_create_function_with_a_blocked_runtime_is_refused(emulator: Any, runtime: str) -> None:
    with pytest.raises(ClientError) as err:
        create_function(emulator, "old", make_zip({"app.py": SIZE}), Runtime=runtime)
    error = err.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == lambda_facts.blocked_message(runtime)
    assert emulator.client("lambda").list_functions()["Functions"] == []


def test_create_function_with_an_unreleased_runtime_is_refused(emulator: Any) -> None:
    with pytest.raises(ClientError) as err:  # in botocore's enum, not released
        create_function(emulator, "new", make_zip({"app.py": SIZE}), Runtime="python3.15")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_a_stack_function_with_a_blocked_runtime_fails(emulator: Any) -> None:
    cfn = emulator.client("cloudformation")
    body = json.loads(_url_template())
    del body["Resources"]["Url"]
    body["Resources"]["Fn"]["Properties"]["Runtime"] = "python3.7"
    cfn.create_stack(StackName="old", TemplateBody=json.dumps(body), Capabilities=["CAPABILITY_IAM"])
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName="old", WaiterConfig={"Delay": 1})
    events = cfn.describe_stack_events(StackName="old")["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Fn"]
    assert any(lambda_facts.blocked_message("python3.7") in r for r in reasons), reasons


def _days_until(day: datetime.date) -> float:
    start = datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp()
    return max(0.0, start - time.time()) + 3600


def _oldest_with_blocks() -> tuple[str, lambda_facts.Lifecycle]:
    """The oldest python runtime a function may still be created with (today and tomorrow, UTC: the day
    may turn while the test runs) whose create and update blocks are dated."""
    tomorrow = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
    lives = lambda_facts.lifecycles()
    for runtime in lambda_facts.creatable_python_runtimes(tomorrow):
        life = lives[runtime]
        if life.create_block is not None and life.update_block is not None:
            return runtime, life
    raise AssertionError("no creatable python runtime has a dated create and update block")


def test_blocks_follow_the_local_clock_for_create_then_update(emulator: Any) -> None:
    runtime, life = _oldest_with_blocks()
    assert life.create_block is not None and life.update_block is not None
    lam = emulator.client("lambda")
    create_function(emulator, "old", make_zip({"app.py": SIZE}), Runtime=runtime)
    emulator.set_faults({"clock": {"offset_seconds": _days_until(life.create_block)}})
    with pytest.raises(ClientError) as err:
        create_function(emulator, "old2", make_zip({"app.py": SIZE}), Runtime=runtime)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    lam.update_function_configuration(FunctionName="old", MemorySize=256)  # updates still go through
    emulator.set_faults({"clock": {"offset_seconds": _days_until(life.update_block)}})
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="old", MemorySize=512)
    assert err.value.response["Error"]["Message"] == lambda_facts.blocked_message(runtime)
    newer = lambda_facts.newest_python(life.update_block)
    lam.update_function_configuration(FunctionName="old", Runtime=newer)  # moving off is allowed


# -- the Function URL's SigV4 scope ---------------------------------------------------------------------


def test_a_url_signature_for_another_region_or_service_is_refused(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "private", make_zip({"app.py": SIZE}))
    url = lam.create_function_url_config(FunctionName="private", AuthType="AWS_IAM")["FunctionUrl"]

    def signed(region: str, service: str = "lambda") -> int:
        req = AWSRequest(
            method="POST", url=url + "v1/logs", data=b"{}", headers={"Content-Type": "application/json"}
        )
        SigV4Auth(Credentials("testing", "testing"), service, region).add_auth(req)
        return http("POST", url + "v1/logs", b"{}", dict(req.headers.items()))[0]

    assert signed("us-west-2") == 403  # a valid signature, scoped to another region
    assert signed(emulator.region, "execute-api") == 403
    assert signed(emulator.region) == 200
