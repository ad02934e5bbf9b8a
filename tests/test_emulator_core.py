"""The emulator core: admin API, call names, faults, Glue catalogs, Lake Formation, S3 Tables via CFN."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.emulator_helpers import iam_principal

ACCOUNT = "123456789012"
REGION = "us-east-1"
FED_ID = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/*"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/S3TablesRoleForLakeFormation"
FIREHOSE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _catalog_input() -> dict[str, Any]:
    return {
        "FederatedCatalog": {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"},
        "CreateDatabaseDefaultPermissions": [],
        "CreateTableDefaultPermissions": [],
        "CatalogProperties": {"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}},
    }


def _columns() -> list[dict[str, Any]]:
    return [
        {"Id": 1, "Name": "timestamp", "Type": "timestamp", "Required": True},
        {"Id": 2, "Name": "service_name", "Type": "string", "Required": True},
        {"Id": 3, "Name": "body", "Type": "string", "Required": False},
    ]


def _template(
    bucket: str = "otel-local", tables: tuple[str, ...] = ("logs", "traces"), columns: Any = None
) -> str:
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
    return json.dumps({"Resources": resources, "Outputs": outputs})


def _deploy(cf: Any, name: str, body: str, change_set: str, kind: str) -> dict[str, Any]:
    cs = cf.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType=kind, TemplateBody=body)
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1})
    cf.execute_change_set(ChangeSetName=cs["Id"])
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cf.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return dict(cf.describe_stacks(StackName=name)["Stacks"][0])


# -- admin API -------------------------------------------------------------------------------------


def test_health_and_reset_wipe_state(emulator):
    with urllib.request.urlopen(f"{emulator.endpoint}/_emulator/health") as resp:
        assert json.loads(resp.read()) == {"status": "ok"}
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
    assert _code(exc) == "ServiceFailure"
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
    assert _code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_faults_api_rejects_bad_input(emulator):
    req = urllib.request.Request(
        f"{emulator.endpoint}/_emulator/faults", data=b'{"throttle": {"fraction": 2}}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req)
    assert exc.value.code == 400


def test_cloudformation_latency_keeps_stack_in_progress(emulator):
    cf = emulator.client("cloudformation")
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 1.0}})
    body = json.dumps(
        {"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "g"}}}}
    )
    cf.create_stack(StackName="slow", TemplateBody=body)
    first = cf.describe_stacks(StackName="slow")["Stacks"][0]["StackStatus"]
    statuses = [e["ResourceStatus"] for e in cf.describe_stack_events(StackName="slow")["StackEvents"]]
    assert first == "CREATE_IN_PROGRESS"
    assert "CREATE_COMPLETE" not in statuses
    started = time.monotonic()
    cf.get_waiter("stack_create_complete").wait(
        StackName="slow", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    assert time.monotonic() - started >= 0.5
    assert emulator.faults()["fired"]["latency"] == 1


# -- Glue catalogs ---------------------------------------------------------------------------------


def test_glue_catalog_lifecycle_and_errors(emulator):
    glue = emulator.client("glue")
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=_catalog_input())
    with pytest.raises(ClientError) as exc:
        glue.create_catalog(Name="s3tablescatalog", CatalogInput=_catalog_input())
    assert _code(exc) == "AlreadyExistsException"
    for bad in ("a.b", "a/b", "aws:x", "x" * 65):
        with pytest.raises(ClientError) as exc:
            glue.create_catalog(Name=bad, CatalogInput={})
        assert _code(exc) == "InvalidInputException", bad
    cat = glue.get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    assert cat["CatalogId"] == f"{ACCOUNT}:s3tablescatalog"
    assert cat["Name"] == "s3tablescatalog"
    assert cat["ResourceArn"] == f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog/s3tablescatalog"
    assert cat["FederatedCatalog"] == {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"}
    assert cat["CatalogProperties"] == {"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}}
    assert cat["CreateTableDefaultPermissions"] == [] and cat["CreateDatabaseDefaultPermissions"] == []
    assert "CreateTime" in cat and "UpdateTime" in cat
    assert [c["Name"] for c in glue.get_catalogs()["CatalogList"]] == ["s3tablescatalog"]

    new_input = {**_catalog_input(), "Description": "updated"}
    glue.update_catalog(CatalogId="s3tablescatalog", CatalogInput=new_input)
    assert glue.get_catalog(CatalogId="s3tablescatalog")["Catalog"]["Description"] == "updated"

    glue.delete_catalog(CatalogId="s3tablescatalog")
    for op in (
        lambda: glue.get_catalog(CatalogId="s3tablescatalog"),
        lambda: glue.delete_catalog(CatalogId="s3tablescatalog"),
        lambda: glue.update_catalog(CatalogId="s3tablescatalog", CatalogInput={}),
    ):
        with pytest.raises(ClientError) as exc:
            op()
        assert _code(exc) == "EntityNotFoundException"


def test_glue_child_catalog_resolves_table_bucket(emulator):
    glue, s3t = emulator.client("glue"), emulator.client("s3tables")
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=_catalog_input())
    with pytest.raises(ClientError) as exc:
        glue.get_catalog(CatalogId=f"{ACCOUNT}:s3tablescatalog/nobucket")
    assert _code(exc) == "EntityNotFoundException"
    arn = s3t.create_table_bucket(name="childbucket")["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=["otel"])
    s3t.create_table(
        tableBucketARN=arn,
        namespace="otel",
        name="logs",
        format="ICEBERG",
        metadata={
            "iceberg": {
                "schema": {
                    "fields": [
                        {"name": "ts", "type": "timestamp", "required": True},
                        {"name": "n", "type": "long"},
                    ]
                }
            }
        },
    )
    for cid in ("s3tablescatalog/childbucket", f"{ACCOUNT}:s3tablescatalog/childbucket"):
        child = glue.get_catalog(CatalogId=cid)["Catalog"]
        assert child["CatalogId"] == f"{ACCOUNT}:s3tablescatalog/childbucket"
        assert child["FederatedCatalog"]["Identifier"] == arn
    cid = f"{ACCOUNT}:s3tablescatalog/childbucket"
    assert glue.get_database(CatalogId=cid, Name="otel")["Database"]["Name"] == "otel"
    table = glue.get_table(CatalogId=cid, DatabaseName="otel", Name="logs")["Table"]
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "ts", "Type": "timestamp"},
        {"Name": "n", "Type": "bigint"},
    ]
    children = glue.get_catalogs(ParentCatalogId="s3tablescatalog")["CatalogList"]
    assert [c["Name"] for c in children] == ["childbucket"]


# -- Lake Formation --------------------------------------------------------------------------------


def test_lakeformation_register_resource_keeps_federation(emulator):
    lf = emulator.client("lakeformation")
    lf.register_resource(ResourceArn=FED_ID, RoleArn=ROLE, WithFederation=True)
    with pytest.raises(ClientError) as exc:
        lf.register_resource(ResourceArn=FED_ID, RoleArn=ROLE, WithFederation=True)
    assert _code(exc) == "AlreadyExistsException"
    info = lf.describe_resource(ResourceArn=FED_ID)["ResourceInfo"]
    assert info["WithFederation"] is True and info["RoleArn"] == ROLE
    listed = lf.list_resources()["ResourceInfoList"]
    assert [(r["ResourceArn"], r["WithFederation"], r["RoleArn"]) for r in listed] == [(FED_ID, True, ROLE)]


def test_lakeformation_settings_put_replaces(emulator):
    lf = emulator.client("lakeformation")
    admin_arn = iam_principal(emulator.client("iam"), f"arn:aws:iam::{ACCOUNT}:user/admin")
    admin = {"DataLakePrincipalIdentifier": admin_arn}
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [admin]})
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == [admin]
    assert settings["CreateDatabaseDefaultPermissions"] == []  # replaced, not merged


def test_lakeformation_grants_on_s3tables_catalog(emulator):
    from emulator.lakeformation.models import has_permission

    glue, s3t, lf = emulator.client("glue"), emulator.client("s3tables"), emulator.client("lakeformation")
    for role in (FIREHOSE_ROLE, ROLE):
        iam_principal(emulator.client("iam"), role)
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=_catalog_input())
    arn = s3t.create_table_bucket(name="grants")["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=["otel"])
    s3t.create_table(tableBucketARN=arn, namespace="otel", name="logs", format="ICEBERG")
    cid = f"{ACCOUNT}:s3tablescatalog/grants"
    principal = {"DataLakePrincipalIdentifier": FIREHOSE_ROLE}
    database = {"Database": {"CatalogId": cid, "Name": "otel"}}
    table = {"Table": {"CatalogId": cid, "DatabaseName": "otel", "Name": "logs"}}
    lf.grant_permissions(Principal=principal, Resource=database, Permissions=["DESCRIBE"])
    lf.grant_permissions(Principal=principal, Resource=table, Permissions=["ALL"])
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": ROLE},
        Resource={"Catalog": {"Id": f"{ACCOUNT}:s3tablescatalog"}},
        Permissions=["ALL"],
    )
    with pytest.raises(ClientError) as exc:
        lf.grant_permissions(CatalogId=cid, Principal=principal, Resource=table, Permissions=["ALL"])
    assert _code(exc) == "InvalidInputException"
    assert "valid AWS account id" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        lf.grant_permissions(
            Principal=principal,
            Permissions=["ALL"],
            Resource={"Table": {"CatalogId": cid, "DatabaseName": "otel", "Name": "nope"}},
        )
    assert _code(exc) == "EntityNotFoundException"

    mine = lf.list_permissions(Principal=principal)["PrincipalResourcePermissions"]
    assert lf.list_permissions(Principal=principal, Resource=table)["PrincipalResourcePermissions"][0][
        "Permissions"
    ] == ["ALL"]
    assert sorted(
        (json.dumps(p["Resource"], sort_keys=True), tuple(p["Permissions"])) for p in mine
    ) == sorted(
        [(json.dumps(database, sort_keys=True), ("DESCRIBE",)), (json.dumps(table, sort_keys=True), ("ALL",))]
    )
    assert len(lf.list_permissions(Resource=table)["PrincipalResourcePermissions"]) == 1
    assert has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, table, "INSERT")
    assert has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, database, "DESCRIBE")
    assert not has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, database, "ALTER")
    lf.revoke_permissions(Principal=principal, Resource=table, Permissions=["ALL"])
    assert not has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, table, "INSERT")


# -- S3 Tables through CloudFormation --------------------------------------------------------------


def test_stack_with_s3tables_change_set_create_update_delete(emulator):
    from pyiceberg.table import StaticTable

    cf, s3t = emulator.client("cloudformation"), emulator.client("s3tables")
    body = _template()
    stack = _deploy(cf, "otlp2pipeline-local", body, "create-1", "CREATE")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    bucket_arn = outputs["TableBucketArn"]
    assert bucket_arn == f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/otel-local"
    assert outputs["LogsTableArn"] == f"{bucket_arn}/table/logs"
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
    assert _code(exc) == "ConflictException"
    with pytest.raises(ClientError) as exc:
        s3t.delete_namespace(tableBucketARN=arn, namespace="otel")
    assert _code(exc) == "ConflictException"
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
    TableBucket, until the window passes."""
    s3t, cf = emulator.client("s3tables"), emulator.client("cloudformation")
    emulator.set_faults({"latency": {"s3tables_bucket_name_reuse_seconds": 5.0}})
    arn = s3t.create_table_bucket(name="again")["arn"]
    s3t.delete_table_bucket(tableBucketARN=arn)
    deleted_at = time.monotonic()

    cf.create_stack(StackName="tb", TemplateBody=_template(bucket="again", tables=()))
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_create_complete").wait(StackName="tb", WaiterConfig={"Delay": 1})
    events = cf.describe_stack_events(StackName="tb")["StackEvents"]
    assert cf.describe_stacks(StackName="tb")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "TableBucket"]
    assert any("transitional state" in r and "ConflictException" in r for r in reasons), reasons

    with pytest.raises(ClientError) as exc:
        s3t.create_table_bucket(name="again")
    assert _code(exc) == "ConflictException" and "transitional state" in str(exc.value)
    assert s3t.create_table_bucket(name="other")["arn"]  # other names are free

    time.sleep(max(0.0, 5.05 - (time.monotonic() - deleted_at)))  # the window the fault set, not a guess
    assert s3t.create_table_bucket(name="again")["arn"] == arn
    assert emulator.faults()["fired"]["latency"] == 1


def test_unknown_latency_keys_are_refused(emulator):
    with pytest.raises(urllib.error.HTTPError) as exc:
        emulator.set_faults({"latency": {"s3tables_bucket_seconds": 1}})
    assert exc.value.code == 400


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
    assert _code(exc) == "InsufficientCapabilitiesException"
    cf.create_stack(StackName="iam", TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
    role = cf.describe_stack_resource(StackName="iam", LogicalResourceId="Role")["StackResourceDetail"]
    iam = emulator.client("iam")
    assert iam.list_role_policies(RoleName=role["PhysicalResourceId"])["PolicyNames"] == ["p"]


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
