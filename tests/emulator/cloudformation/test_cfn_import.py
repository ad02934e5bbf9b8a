"""IMPORT change sets into an existing stack, as CloudFormation takes them: the template is the stack's
resources, unchanged, plus the imported ones; each of those has a DeletionPolicy, exists, and belongs to no
stack; the import adds it without touching the rest, and the stack stays updatable. With it, a namespace a
stack update removed (kept by its DeletionPolicy) and an existing one taken in under the same logical id:
the move back of the tool's namespace change (tasks/steps/stack_namespace.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, REGION, error_code

STACK = "import-stack"
BUCKET_ARN = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/import-bucket"
KEEP = {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}


def _namespace(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::S3Tables::Namespace",
        **KEEP,
        "Properties": {"TableBucketARN": {"Fn::GetAtt": ["Bucket", "TableBucketARN"]}, "Namespace": name},
    }


def _template(namespace: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Bucket": {
            "Type": "AWS::S3Tables::TableBucket",
            **KEEP,
            "Properties": {"TableBucketName": "import-bucket"},
        },
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "import-group"}},
    }
    if namespace is not None:
        resources["Namespace"] = _namespace(namespace)
    return {"Resources": resources}


def _wait(cfn: Any, cs: dict[str, Any]) -> None:
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=cs["Id"], StackName=cs["StackId"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )


def _import(cfn: Any, template: dict[str, Any], namespace: str, name: str = "imp") -> dict[str, Any]:
    return dict(
        cfn.create_change_set(
            StackName=STACK,
            ChangeSetName=name,
            ChangeSetType="IMPORT",
            TemplateBody=json.dumps(template),
            ResourcesToImport=[
                {
                    "ResourceType": "AWS::S3Tables::Namespace",
                    "LogicalResourceId": "Namespace",
                    "ResourceIdentifier": {"TableBucketARN": BUCKET_ARN, "Namespace": namespace},
                }
            ],
        )
    )


def _with_table(s3t: Any, namespace: str) -> None:
    s3t.create_namespace(tableBucketARN=BUCKET_ARN, namespace=[namespace])
    schema = {"fields": [{"name": "id", "type": "int", "required": True}]}
    s3t.create_table(
        tableBucketARN=BUCKET_ARN,
        namespace=namespace,
        name="t",
        format="ICEBERG",
        metadata={"iceberg": {"schema": schema}},
    )


def _status(cfn: Any) -> str:
    return str(cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"])


def test_a_kept_namespace_is_imported_into_the_stack_under_the_logical_id_another_one_left(emulator):
    cfn, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(_template("one")))
    assert _status(cfn) == "CREATE_COMPLETE"
    s3t.create_table(
        tableBucketARN=BUCKET_ARN,
        namespace="one",
        name="t",
        format="ICEBERG",
        metadata={"iceberg": {"schema": {"fields": [{"name": "id", "type": "int", "required": True}]}}},
    )
    _with_table(s3t, "two")

    # The logical id is the stack's: it cannot be imported while the stack holds it.
    with pytest.raises(ClientError) as held:
        _import(cfn, _template("two"), "two")
    assert error_code(held) == "ValidationError"

    # The update that drops it keeps it (RetainExceptOnCreate: not created by this operation), tables and all.
    cfn.update_stack(StackName=STACK, TemplateBody=json.dumps(_template(None)))
    assert _status(cfn) == "UPDATE_COMPLETE"
    assert s3t.get_namespace(tableBucketARN=BUCKET_ARN, namespace="one")["namespace"] == ["one"]
    assert [t["name"] for t in s3t.list_tables(tableBucketARN=BUCKET_ARN, namespace="one")["tables"]] == ["t"]

    cs = _import(cfn, _template("two"), "two")
    _wait(cfn, cs)
    changes = cfn.describe_change_set(ChangeSetName=cs["Id"])["Changes"]
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes] == [
        ("Import", "Namespace")
    ]
    group_before = cfn.describe_stack_resource(StackName=STACK, LogicalResourceId="Group")
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    assert _status(cfn) == "IMPORT_COMPLETE"
    found = cfn.describe_stack_resource(StackName=STACK, LogicalResourceId="Namespace")["StackResourceDetail"]
    assert found["PhysicalResourceId"] == f"{BUCKET_ARN}|two"
    assert found["ResourceStatus"] == "IMPORT_COMPLETE"
    group = cfn.describe_stack_resource(StackName=STACK, LogicalResourceId="Group")
    assert group["StackResourceDetail"] == group_before["StackResourceDetail"]  # untouched
    body = cfn.get_template(StackName=STACK)["TemplateBody"]
    assert (body if isinstance(body, dict) else json.loads(body)) == _template("two")

    # The stack stays updatable, and nothing deleted a namespace.
    later = _template("two")
    later["Resources"]["Group"]["Properties"]["RetentionInDays"] = 7
    cfn.update_stack(StackName=STACK, TemplateBody=json.dumps(later))
    assert _status(cfn) == "UPDATE_COMPLETE"
    names = {n["namespace"][0] for n in s3t.list_namespaces(tableBucketARN=BUCKET_ARN)["namespaces"]}
    assert names == {"one", "two"}


def test_an_import_into_a_stack_adds_resources_and_changes_nothing_else(emulator):
    cfn, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(_template(None)))
    _with_table(s3t, "two")

    changed = _template("two")
    changed["Resources"]["Group"]["Properties"]["RetentionInDays"] = 7
    dropped = _template("two")
    del dropped["Resources"]["Group"]
    bare = _template("two")
    for key in KEEP:
        del bare["Resources"]["Namespace"][key]
    for template in (changed, dropped, bare):
        with pytest.raises(ClientError) as refused:
            _import(cfn, template, "two")
        assert error_code(refused) == "ValidationError"
    with pytest.raises(ClientError) as missing:
        _import(cfn, _template("three"), "three")
    assert error_code(missing) == "ValidationError"
    assert _status(cfn) == "CREATE_COMPLETE"

    # A resource another stack holds cannot be imported into this one.
    cs = _import(cfn, _template("two"), "two")
    _wait(cfn, cs)
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    assert _status(cfn) == "IMPORT_COMPLETE"
    holder = {"Resources": {"Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "g2"}}}}
    cfn.create_stack(StackName="holder", TemplateBody=json.dumps(holder))
    taken = copy.deepcopy(holder)
    taken["Resources"]["Namespace"] = {
        **_namespace("two"),
        "Properties": {"TableBucketARN": BUCKET_ARN, "Namespace": "two"},
    }
    with pytest.raises(ClientError) as owned:
        cfn.create_change_set(
            StackName="holder",
            ChangeSetName="steal",
            ChangeSetType="IMPORT",
            TemplateBody=json.dumps(taken),
            ResourcesToImport=[
                {
                    "ResourceType": "AWS::S3Tables::Namespace",
                    "LogicalResourceId": "Namespace",
                    "ResourceIdentifier": {"TableBucketARN": BUCKET_ARN, "Namespace": "two"},
                }
            ],
        )
    assert error_code(owned) == "ValidationError"
    assert "already belongs to the stack" in str(owned.value)
