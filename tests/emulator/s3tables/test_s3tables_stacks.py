"""S3 Tables through the emulator's CloudFormation: change sets, replacement, delete rules, names."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tasks.polling import backoff_delays, poll_until
from tests.emulator.helpers import ACCOUNT, REGION, error_code


def _columns() -> list[dict[str, Any]]:
    return [
        {"Id": 1, "Name": "timestamp", "Type": "timestamp", "Required": True},
        {"Id": 2, "Name": "service_name", "Type": "string", "Required": True},
        {"Id": 3, "Name": "body", "Type": "string", "Required": False},
    ]


def _template(
    bucket: str = "otel-local",
    tables: tuple[str, ...] = ("logs", "traces"),
    columns: Any = None,
    policies: dict[str, dict[str, str]] | None = None,
) -> str:
    """A stack of the bucket, its namespace and tables; `policies`: logical id -> DeletionPolicy etc."""
    resources: dict[str, Any] = {
        "TableBucket": {"Type": "AWS::S3Tables::TableBucket", "Properties": {"TableBucketName": bucket}},
        "Namespace": {
            "Type": "AWS::S3Tables::Namespace",
            "Properties": {
                "TableBucketARN": {"Fn::GetAtt": ["TableBucket", "TableBucketARN"]},
                "Namespace": "otel",
            },
        },
        "LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "/aws/kinesisfirehose/otel"},
        },
    }
    outputs: dict[str, Any] = {"TableBucketArn": {"Value": {"Ref": "TableBucket"}}}
    for name in tables:
        logical = name.capitalize() + "Table"
        resources[logical] = {
            "Type": "AWS::S3Tables::Table",
            "DependsOn": "Namespace",
            "Properties": {
                "TableBucketARN": {"Fn::GetAtt": ["TableBucket", "TableBucketARN"]},
                "Namespace": "otel",
                "TableName": name,
                "OpenTableFormat": "ICEBERG",
                "IcebergMetadata": {
                    "IcebergSchema": {"SchemaFieldList": columns or _columns()},
                    "IcebergPartitionSpec": {
                        "Fields": [
                            {"SourceId": 1, "Transform": "day", "Name": "timestamp_day", "FieldId": 1000}
                        ]
                    },
                },
                "Compaction": {"Status": "enabled", "TargetFileSizeMB": 512},
                "SnapshotManagement": {
                    "Status": "enabled",
                    "MinSnapshotsToKeep": 1,
                    "MaxSnapshotAgeHours": 120,
                },
            },
        }
        resources[name.capitalize() + "Stream"] = {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "LogGroup"}, "LogStreamName": name},
        }
        outputs[logical + "Arn"] = {"Value": {"Fn::GetAtt": [logical, "TableARN"]}}
    for logical, attributes in (policies or {}).items():
        resources[logical].update(attributes)
    return json.dumps({"Resources": resources, "Outputs": outputs})


def _deploy(cf: Any, name: str, body: str, change_set: str, kind: str) -> dict[str, Any]:
    cs = cf.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType=kind, TemplateBody=body)
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1})
    cf.execute_change_set(ChangeSetName=cs["Id"])
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cf.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return dict(cf.describe_stacks(StackName=name)["Stacks"][0])


def test_stack_with_s3tables_change_set_create_update_delete(emulator):
    from pyiceberg.table import StaticTable

    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    body = _template()
    stack = _deploy(cf, "otlp2pipeline-local", body, "create-1", "CREATE")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    bucket_arn = outputs["TableBucketArn"]
    assert bucket_arn == f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/otel-local"
    table_id = outputs["LogsTableArn"].removeprefix(f"{bucket_arn}/table/")  # a table ARN ends in its id
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", table_id), table_id
    assert cf.get_template(StackName="otlp2pipeline-local")["TemplateBody"] == json.loads(body)
    assert sorted(t["name"] for t in s3t.list_tables(tableBucketARN=bucket_arn)["tables"]) == [
        "logs",
        "traces",
    ]
    assert [n["namespace"] for n in s3t.list_namespaces(tableBucketARN=bucket_arn)["namespaces"]] == [
        ["otel"]
    ]
    location = s3t.get_table_metadata_location(tableBucketARN=bucket_arn, namespace="otel", name="logs")
    table = StaticTable.from_metadata(location["metadataLocation"])
    assert table.format_version == 2
    assert [f.name for f in table.schema().fields] == ["timestamp", "service_name", "body"]
    assert str(table.spec().fields[0].transform) == "day"
    events = cf.describe_stack_events(StackName="otlp2pipeline-local")["StackEvents"]
    assert {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events} >= {
        ("LogsTable", "CREATE_IN_PROGRESS"),
        ("LogsTable", "CREATE_COMPLETE"),
        ("TableBucket", "CREATE_COMPLETE"),
    }

    # Update: one table more, one table less (a change set of type UPDATE).
    updated = _template(tables=("logs", "sum"))
    cs = cf.create_change_set(StackName="otlp2pipeline-local", ChangeSetName="update-1", TemplateBody=updated)
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1})
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"]
        for c in cf.describe_change_set(ChangeSetName=cs["Id"])["Changes"]
    }
    assert changes == {
        "SumTable": "Add",
        "SumStream": "Add",
        "TracesTable": "Remove",
        "TracesStream": "Remove",
    }
    cf.execute_change_set(ChangeSetName=cs["Id"])
    cf.get_waiter("stack_update_complete").wait(StackName="otlp2pipeline-local", WaiterConfig={"Delay": 1})
    assert sorted(t["name"] for t in s3t.list_tables(tableBucketARN=bucket_arn)["tables"]) == ["logs", "sum"]

    # No changes: the change set fails with AWS's reason.
    cs = cf.create_change_set(StackName="otlp2pipeline-local", ChangeSetName="noop", TemplateBody=updated)
    described = cf.describe_change_set(ChangeSetName=cs["Id"])
    assert described["Status"] == "FAILED" and "didn't contain changes" in described["StatusReason"]

    cf.delete_stack(StackName="otlp2pipeline-local")
    cf.get_waiter("stack_delete_complete").wait(StackName="otlp2pipeline-local", WaiterConfig={"Delay": 1})
    assert s3t.list_table_buckets()["tableBuckets"] == []


def test_create_only_change_replaces_and_custom_name_conflict_fails(emulator):
    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    _deploy(cf, "repl", _template(bucket="first-bucket", tables=("logs",)), "c1", "CREATE")
    # Same table name, new schema: a custom-named resource cannot be replaced (as on AWS).
    cs = cf.create_change_set(
        StackName="repl",
        ChangeSetName="schema",
        TemplateBody=_template(bucket="first-bucket", tables=("logs",), columns=_columns()[:2]),
    )
    change = cf.describe_change_set(ChangeSetName=cs["Id"])["Changes"][0]["ResourceChange"]
    assert (change["LogicalResourceId"], change["Replacement"]) == ("LogsTable", "True")
    cf.execute_change_set(ChangeSetName=cs["Id"])
    stack = cf.describe_stacks(StackName="repl")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    failed = [
        e
        for e in cf.describe_stack_events(StackName="repl")["StackEvents"]
        if e["ResourceStatus"] == "UPDATE_FAILED"
    ]
    assert failed and failed[0]["LogicalResourceId"] == "LogsTable"
    assert "custom-named resource requires replacing" in failed[0]["ResourceStatusReason"]
    # A new bucket name replaces the bucket and everything in it; the old ones go in cleanup.
    cf.update_stack(StackName="repl", TemplateBody=_template(bucket="second-bucket", tables=("logs",)))
    assert cf.describe_stacks(StackName="repl")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert [b["name"] for b in s3t.list_table_buckets()["tableBuckets"]] == ["second-bucket"]


def test_deleting_table_bucket_with_tables_fails(emulator):
    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    stack = _deploy(cf, "busy", _template(bucket="busy-bucket", tables=("logs",)), "c1", "CREATE")
    arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TableBucketArn"]
    with pytest.raises(ClientError) as exc:
        s3t.delete_table_bucket(tableBucketARN=arn)
    assert error_code(exc) == "ConflictException"
    with pytest.raises(ClientError) as exc:
        s3t.delete_namespace(tableBucketARN=arn, namespace="otel")
    assert error_code(exc) == "ConflictException"
    s3t.create_namespace(tableBucketARN=arn, namespace=["extra"])
    s3t.create_table(tableBucketARN=arn, namespace="extra", name="stray", format="ICEBERG")
    cf.delete_stack(StackName="busy")
    with pytest.raises(Exception, match="DELETE_FAILED"):
        cf.get_waiter("stack_delete_complete").wait(
            StackName="busy", WaiterConfig={"Delay": 1, "MaxAttempts": 3}
        )
    stack = cf.describe_stacks(StackName="busy")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert "TableBucket" in stack["StackStatusReason"]
    failed = [
        e
        for e in cf.describe_stack_events(StackName="busy")["StackEvents"]
        if e["ResourceStatus"] == "DELETE_FAILED" and e["ResourceType"] != "AWS::CloudFormation::Stack"
    ]
    assert failed[0]["LogicalResourceId"] == "TableBucket"
    assert "ConflictException" in failed[0]["ResourceStatusReason"]
    # Clean the stray table and the bucket name can be deleted and used again.
    s3t.delete_table(tableBucketARN=arn, namespace="extra", name="stray")
    s3t.delete_namespace(tableBucketARN=arn, namespace="extra")
    cf.delete_stack(StackName="busy")
    cf.get_waiter("stack_delete_complete").wait(StackName="busy", WaiterConfig={"Delay": 1})
    assert s3t.create_table_bucket(name="busy-bucket")["arn"] == arn


def test_a_just_deleted_table_bucket_name_is_in_a_transitional_state(emulator):
    """latency.s3tables_bucket_name_reuse_seconds: the name is refused (409) through the API and by a stack's
    TableBucket, until the window passes. The window is held (an hour) while the test looks, then shortened
    to end a moment from now: nothing here depends on how fast a loaded machine runs the stack."""
    s3t, cf = emulator.client("s3tables"), emulator.client("cloudformation")
    emulator.set_faults({"latency": {"s3tables_bucket_name_reuse_seconds": 3600.0}})
    arn = s3t.create_table_bucket(name="again")["arn"]
    before_delete = time.monotonic()  # the emulator runs in this process: the same clock
    s3t.delete_table_bucket(tableBucketARN=arn)

    cf.create_stack(StackName="tb", TemplateBody=_template(bucket="again", tables=()))
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_create_complete").wait(StackName="tb", WaiterConfig={"Delay": 1})
    events = cf.describe_stack_events(StackName="tb")["StackEvents"]
    assert cf.describe_stacks(StackName="tb")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "TableBucket"]
    assert any("transitional state" in r and "ConflictException" in r for r in reasons), reasons

    with pytest.raises(ClientError) as exc:
        s3t.create_table_bucket(name="again")
    assert error_code(exc) == "ConflictException" and "transitional state" in str(exc.value)
    assert s3t.create_table_bucket(name="other")["arn"]  # other names are free

    window = time.monotonic() - before_delete + 0.5  # the running window now ends half a second from now
    emulator.set_faults({"latency": {"s3tables_bucket_name_reuse_seconds": window}})

    def create() -> float | None:
        try:
            assert s3t.create_table_bucket(name="again")["arn"] == arn
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ConflictException", err
            return None
        return time.monotonic()

    created_at, done = poll_until(create, lambda t: t is not None, backoff_delays(60.0, first=0.1, cap=0.5))
    assert done and created_at is not None and created_at >= before_delete + window  # not a moment early
    assert emulator.faults()["fired"]["latency"] == 1


def test_a_table_an_update_removes_is_kept_when_its_deletion_policy_retains_it_else_deleted(emulator):
    """DeletionPolicy applies to a resource an update removes from the template: the policy of the template
    it was deployed with decides (how the tool moves the tables of an old stack out, keeping them)."""
    from pyiceberg.table import StaticTable

    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    retain = {"TracesTable": {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}}
    stack = _deploy(cf, "keep", _template(policies=retain), "create", "CREATE")
    bucket_arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TableBucketArn"]
    location = s3t.get_table_metadata_location(tableBucketARN=bucket_arn, namespace="otel", name="traces")
    _deploy(cf, "keep", _template(tables=()), "update", "UPDATE")
    assert [t["name"] for t in s3t.list_tables(tableBucketARN=bucket_arn)["tables"]] == ["traces"]
    kept = s3t.get_table_metadata_location(tableBucketARN=bucket_arn, namespace="otel", name="traces")
    assert StaticTable.from_metadata(kept["metadataLocation"]).metadata.table_uuid == (
        StaticTable.from_metadata(location["metadataLocation"]).metadata.table_uuid
    )
    events = cf.describe_stack_events(StackName="keep")["StackEvents"]
    statuses = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    assert ("TracesTable", "DELETE_SKIPPED") in statuses and ("LogsTable", "DELETE_COMPLETE") in statuses
    resources = cf.list_stack_resources(StackName="keep")["StackResourceSummaries"]
    assert "TracesTable" not in {r["LogicalResourceId"] for r in resources}


def test_retain_except_on_create_keeps_the_bucket_when_the_stack_goes_and_not_when_its_create_fails(emulator):
    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    kept = {"TableBucket": {"DeletionPolicy": "RetainExceptOnCreate"}}
    _deploy(cf, "kept", _template(bucket="kept-bucket", tables=(), policies=kept), "create", "CREATE")
    cf.delete_stack(StackName="kept")
    cf.get_waiter("stack_delete_complete").wait(StackName="kept", WaiterConfig={"Delay": 1})
    assert "kept-bucket" in {b["name"] for b in s3t.list_table_buckets()["tableBuckets"]}

    doc = json.loads(_template(bucket="gone-bucket", tables=(), policies=kept))
    doc["Resources"]["Broken"] = {  # fails after the bucket exists: the create rolls back
        "Type": "AWS::Logs::LogStream",
        "DependsOn": "TableBucket",
        "Properties": {"LogGroupName": "/no/such/group", "LogStreamName": "x"},
    }
    cf.create_stack(StackName="gone", TemplateBody=json.dumps(doc))
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_create_complete").wait(StackName="gone", WaiterConfig={"Delay": 1})
    assert cf.describe_stacks(StackName="gone")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "gone-bucket" not in {b["name"] for b in s3t.list_table_buckets()["tableBuckets"]}
