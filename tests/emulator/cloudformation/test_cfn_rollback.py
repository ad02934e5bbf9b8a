"""An update's rollback as CloudFormation runs it: a function set back to its previous code key, and a
rollback that cannot do that ending UPDATE_ROLLBACK_FAILED with the reason, until ContinueUpdateRollback.

The update fails after the function's code update: a new resource that depends on the function fails to
create (a namespace in a table bucket that does not exist), so the function was already updated when the
rollback starts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, REGION, error_code
from tests.emulator.lambda_.helpers import LAMBDA_TRUST, make_zip

BUCKET = "artifacts"
STACK = "rollback-stack"


def _code(version: str) -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {{'version': '{version}'}}\n"})


def _template(key: str, *, failing: bool = False) -> str:
    resources: dict[str, Any] = {
        "FnRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "rollback-fn",
                "Runtime": "python3.12",
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
                "Code": {"S3Bucket": BUCKET, "S3Key": {"Ref": "CodeKey"}},
            },
        },
    }
    if failing:
        resources["Breaks"] = {
            "Type": "AWS::S3Tables::Namespace",
            "DependsOn": "Fn",
            "Properties": {
                "TableBucketARN": f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/missing",
                "Namespace": "x",
            },
        }
    return json.dumps(
        {
            "Parameters": {"CodeKey": {"Type": "String", "Default": key}},
            "Resources": resources,
        }
    )


def _stack(cfn: Any) -> dict[str, Any]:
    return dict(cfn.describe_stacks(StackName=STACK)["Stacks"][0])


def _invoke(emulator: Any) -> str:
    out = emulator.client("lambda").invoke(FunctionName="rollback-fn", Payload=b"{}")
    return str(json.loads(out["Payload"].read())["version"])


def _set_up(emulator: Any) -> tuple[Any, Any]:
    s3, cfn = emulator.client("s3"), emulator.client("cloudformation")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="v1.zip", Body=_code("v1"))
    s3.put_object(Bucket=BUCKET, Key="v2.zip", Body=_code("v2"))
    cfn.create_stack(StackName=STACK, TemplateBody=_template("v1.zip"), Capabilities=["CAPABILITY_IAM"])
    assert _stack(cfn)["StackStatus"] == "CREATE_COMPLETE"
    assert _invoke(emulator) == "v1"
    return s3, cfn


def _update_to_v2(cfn: Any, *, failing: bool = False) -> None:
    cfn.update_stack(
        StackName=STACK,
        TemplateBody=_template("v2.zip", failing=failing),
        Parameters=[{"ParameterKey": "CodeKey", "ParameterValue": "v2.zip"}],
        Capabilities=["CAPABILITY_IAM"],
    )


def _failing_update(cfn: Any) -> None:
    _update_to_v2(cfn, failing=True)


def _rollback_events(cfn: Any) -> list[tuple[str, str]]:
    """(resource, status) of the events since the stack's last UPDATE_ROLLBACK_IN_PROGRESS, oldest first."""
    events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
    out: list[tuple[str, str]] = []
    for e in events:
        if e["LogicalResourceId"] == STACK and e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS":
            break
        out.append((e["LogicalResourceId"], e["ResourceStatus"]))
    return list(reversed(out))


def test_a_failed_update_sets_the_function_back_to_its_previous_code_key(emulator):
    _, cfn = _set_up(emulator)
    _failing_update(cfn)
    stack = _stack(cfn)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"CodeKey": "v1.zip"}
    assert _invoke(emulator) == "v1"  # the function was on v2 when the rollback began
    assert ("Fn", "UPDATE_COMPLETE") in _rollback_events(cfn)
    # The stack's records are the previous ones: the same update is a change again, and it applies.
    _update_to_v2(cfn)
    assert _stack(cfn)["StackStatus"] == "UPDATE_COMPLETE"
    assert _invoke(emulator) == "v2"


def _delete_every_version(s3: Any, key: str) -> None:
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=v["VersionId"])


def _expire_after_30_days(emulator: Any, s3: Any) -> None:
    """What the tool's artifacts bucket did before: a rule expiring every object 30 days after upload."""
    rule = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})
    emulator.set_faults({"clock": {"offset_seconds": 31 * 86_400}})
    s3.put_object(Bucket=BUCKET, Key="v2.zip", Body=_code("v2"))  # the new code, uploaded a month later


def _rollback_failed(emulator: Any, how: str = "deleted") -> tuple[Any, Any]:
    s3, cfn = _set_up(emulator)
    if how == "deleted":
        _delete_every_version(s3, "v1.zip")  # behind the stack's back: the rollback's code is gone
    else:  # a month later, expired by the bucket's rule (a delete marker over it)
        _expire_after_30_days(emulator, s3)
        assert not s3.list_objects_v2(Bucket=BUCKET, Prefix="v1.zip").get("Contents")
    _failing_update(cfn)
    stack = _stack(cfn)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to update: [Fn]. "
    events = _rollback_events(cfn)
    [failed] = [e for e in cfn.describe_stack_events(StackName=STACK)["StackEvents"]
                if e["LogicalResourceId"] == "Fn" and e["ResourceStatus"] == "UPDATE_FAILED"]  # fmt: skip
    assert "NoSuchKey" in failed["ResourceStatusReason"]
    assert events[-2:] == [("Fn", "UPDATE_FAILED"), (STACK, "UPDATE_ROLLBACK_FAILED")]
    assert _invoke(emulator) == "v2"  # the function keeps the code the update gave it
    # No update while the rollback is unfinished, as on AWS.
    for call in (
        lambda: cfn.update_stack(
            StackName=STACK, TemplateBody=_template("v1.zip"), Capabilities=["CAPABILITY_IAM"]
        ),
        lambda: cfn.create_change_set(StackName=STACK, ChangeSetName="c", TemplateBody=_template("v1.zip")),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ValidationError"
        assert "UPDATE_ROLLBACK_FAILED state and can not be updated" in str(exc.value)
    return s3, cfn


@pytest.mark.parametrize("how", ["deleted", "expired"])
def test_a_rollback_whose_code_key_is_gone_fails_and_continues_once_the_key_is_back(emulator, how):
    s3, cfn = _rollback_failed(emulator, how)
    s3.put_object(Bucket=BUCKET, Key="v1.zip", Body=_code("v1"))
    cfn.continue_update_rollback(StackName=STACK)
    assert _stack(cfn)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _invoke(emulator) == "v1"
    assert [r for r, _ in _rollback_events(cfn)] == ["Fn", "Fn", STACK, STACK]
    resources = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources}["Fn"] == "UPDATE_COMPLETE"
    assert "Breaks" not in {r["LogicalResourceId"] for r in resources}


def test_continue_update_rollback_skips_the_resources_it_is_told_to(emulator):
    _, cfn = _rollback_failed(emulator)
    cfn.continue_update_rollback(StackName=STACK)  # nothing fixed: it fails again, the same way
    assert _stack(cfn)["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    for skip in (["Breaks"], ["Nope"], ["FnRole"]):  # only what failed to roll back may be skipped
        with pytest.raises(ClientError) as exc:
            cfn.continue_update_rollback(StackName=STACK, ResourcesToSkip=skip)
        assert error_code(exc) == "ValidationError"
    cfn.continue_update_rollback(StackName=STACK, ResourcesToSkip=["Fn"])
    stack = _stack(cfn)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"CodeKey": "v1.zip"}
    assert _invoke(emulator) == "v2"  # skipped: the live function is not what the stack records
    with pytest.raises(ClientError) as exc:  # nothing left to continue
        cfn.continue_update_rollback(StackName=STACK)
    assert error_code(exc) == "ValidationError"
    # The next update takes the function where the template says.
    _update_to_v2(cfn)
    assert _stack(cfn)["StackStatus"] == "UPDATE_COMPLETE"
    assert _invoke(emulator) == "v2"
