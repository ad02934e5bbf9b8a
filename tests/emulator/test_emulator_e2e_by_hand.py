"""The setup guide's whole deploy sequence by hand with boto3, against the emulator, ending in Iceberg rows.

aws-s3tables-firehose-setup.md + aws-facts.md "The deploy sequence": account-level S3 Tables / Lake Formation
setup, a CloudFormation stack with the four tables partitioned by day(timestamp), Lake Formation grants to
the Firehose role, four AppendOnly streams, 100 records per signal, read back with pyiceberg.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pyiceberg.table import StaticTable

from lake.schemas import load
from lake.signals import DEFAULT_SIGNALS
from tasks.records import encode, from_micros, make_records
from tests.emulator import helpers as eh
from tests.emulator.helpers import ACCOUNT, NAMESPACE, REGION, metric_sum
from verify.expect import S3TABLES_ACTIONS

STACK = "otlp2pipeline-e2e"
BUCKET = "otlp2pipeline-e2e"
ERROR_BUCKET = f"{STACK}-errors-{ACCOUNT}-{REGION}"
LOG_GROUP = f"/aws/kinesisfirehose/{STACK}"


def _logical(signal: str) -> str:
    return "Table" + signal.title().replace("_", "")


def template(signals: tuple[str, ...]) -> dict[str, Any]:
    """A minimal stack as the bash scripts made it: table bucket, namespace, tables, Firehose role, error
    bucket, logs."""
    resources: dict[str, Any] = {
        "TableBucket": {"Type": "AWS::S3Tables::TableBucket", "Properties": {"TableBucketName": BUCKET}},
        "Namespace": {
            "Type": "AWS::S3Tables::Namespace",
            "Properties": {"Namespace": NAMESPACE, "TableBucketARN": {"Ref": "TableBucket"}},
        },
        "FirehoseRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"{STACK}-firehose",
                "AssumeRolePolicyDocument": eh.FIREHOSE_TRUST,
                "Policies": [{"PolicyName": "firehose-delivery", "PolicyDocument": eh.FIREHOSE_POLICY}],
            },
        },
        "ErrorBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": ERROR_BUCKET}},
        "LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": LOG_GROUP}},
    }
    for signal in signals:
        schema = load(signal)
        ts = schema.column(schema.partition_source)
        resources[_logical(signal)] = {
            "Type": "AWS::S3Tables::Table",
            "DependsOn": "Namespace",
            "Properties": {
                "TableBucketARN": {"Ref": "TableBucket"},
                "Namespace": NAMESPACE,
                "TableName": signal,
                "OpenTableFormat": "ICEBERG",
                "IcebergMetadata": {
                    "IcebergSchema": {
                        "SchemaFieldList": [
                            {"Id": c.id, "Name": c.name, "Type": c.iceberg_type, "Required": c.required}
                            for c in schema.columns
                        ]
                    },
                    "IcebergPartitionSpec": {
                        "Fields": [
                            {
                                "SourceId": ts.id,
                                "Transform": schema.partition_transform,
                                "Name": f"{ts.name}_{schema.partition_transform}",
                                "FieldId": 1000,
                            }
                        ]
                    },
                },
            },
        }
        resources["LogStream" + _logical(signal)] = {
            "Type": "AWS::Logs::LogStream",
            "Properties": {"LogGroupName": {"Ref": "LogGroup"}, "LogStreamName": signal},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
        "Outputs": {"FirehoseRoleArn": {"Value": {"Fn::GetAtt": ["FirehoseRole", "Arn"]}}},
    }


def account_setup(emu: Any) -> str:
    """Step 1 of the setup guide: shared by every stack of the account. Returns the caller ARN."""
    iam, lf, glue = emu.client("iam"), emu.client("lakeformation"), emu.client("glue")
    caller = emu.client("sts").get_caller_identity()["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lakeformation.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext"],
            }
        ],
    }
    lf_role = iam.create_role(
        RoleName="S3TablesRoleForLakeFormation", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="S3TablesRoleForLakeFormation",
        PolicyName="s3tables",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(S3TABLES_ACTIONS), "Resource": "*"}],
            }
        ),
    )
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    admins = settings.get("DataLakeAdmins", [])
    if {"DataLakePrincipalIdentifier": caller} not in admins:
        settings["DataLakeAdmins"] = [*admins, {"DataLakePrincipalIdentifier": caller}]
    lf.put_data_lake_settings(DataLakeSettings=settings)
    lf.register_resource(
        ResourceArn=f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/*", RoleArn=lf_role, WithFederation=True
    )
    eh.create_s3tables_catalog(
        glue,
        CreateDatabaseDefaultPermissions=[],
        CreateTableDefaultPermissions=[],
        CatalogProperties={"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}},
    )
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": caller},
        Resource={"Catalog": {"Id": f"{ACCOUNT}:s3tablescatalog"}},
        Permissions=["ALL"],
    )
    return str(caller)


def deploy(emu: Any, skip_table_grant: str | None = None) -> str:
    """Steps 2-4: stack, Lake Formation grants to the Firehose role, AppendOnly streams; the role ARN."""
    cfn = emu.client("cloudformation")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template(DEFAULT_SIGNALS)),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    outputs = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    role_arn = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "FirehoseRoleArn")

    granted = [s for s in DEFAULT_SIGNALS if s != skip_table_grant]
    eh.grant_tables(emu.client("lakeformation"), role_arn, BUCKET, granted)

    fh = emu.client("firehose")
    for signal in DEFAULT_SIGNALS:
        fh.create_delivery_stream(
            DeliveryStreamName=f"{STACK}-{signal}",
            DeliveryStreamType="DirectPut",
            # No retry window: a failing destination's records reach the error bucket at once (with the
            # the guide's default of 300 s, Firehose would retry that long first).
            IcebergDestinationConfiguration=eh.iceberg_destination(
                role_arn, BUCKET, signal, ERROR_BUCKET, f"errors/{signal}/", log_group=LOG_GROUP, retry_s=0
            ),
        )
    return role_arn


def send(emu: Any, run_id: str) -> dict[str, list[dict[str, Any]]]:
    fh = emu.client("firehose")
    sent = {}
    for signal in DEFAULT_SIGNALS:
        records = make_records(signal, run_id, 100)
        resp = fh.put_record_batch(
            DeliveryStreamName=f"{STACK}-{signal}", Records=[{"Data": encode(r)} for r in records]
        )
        assert resp["FailedPutCount"] == 0
        sent[signal] = records
    return sent


def read_table(emu: Any, signal: str) -> list[dict[str, Any]]:
    s3t = emu.client("s3tables")
    bucket_arn = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/{BUCKET}"
    location = s3t.get_table_metadata_location(tableBucketARN=bucket_arn, namespace=NAMESPACE, name=signal)[
        "metadataLocation"
    ]
    table = StaticTable.from_metadata(location)
    assert table.format_version == 2
    assert [str(f.transform) for f in table.spec().fields] == ["day"]
    return table.scan().to_arrow().to_pylist()


def expected_row(signal: str, record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    for col in load(signal).columns:
        if col.type == "timestamp":
            row[col.name] = from_micros(record[col.name])  # integer epoch microseconds, read back naive UTC
    return row


def test_seed_sequence_delivers_400_rows(emulator: Any) -> None:
    account_setup(emulator)
    deploy(emulator)
    sent = send(emulator, "run-e2e")
    assert emulator.flush() == {"delivered": 400, "failed": 0}

    total_rows = 0
    for signal, records in sent.items():
        rows = read_table(emulator, signal)
        total_rows += len(rows)
        got = sorted(rows, key=lambda r: r["service_instance_id"])
        want = sorted((expected_row(signal, r) for r in records), key=lambda r: r["service_instance_id"])
        assert got == want, signal
    assert total_rows == 400
    successful = sum(
        metric_sum(emulator, "DeliveryToIceberg.SuccessfulRowCount", f"{STACK}-{s}") for s in DEFAULT_SIGNALS
    )
    assert successful == 400
    assert emulator.client("s3").list_objects_v2(Bucket=ERROR_BUCKET).get("KeyCount", 0) == 0


def test_seed_sequence_with_a_missing_table_grant(emulator: Any) -> None:
    account_setup(emulator)
    deploy(emulator, skip_table_grant="gauge")
    sent = send(emulator, "run-nogrant")
    assert emulator.flush() == {"delivered": 300, "failed": 100}

    assert read_table(emulator, "gauge") == []
    for signal in ("logs", "traces", "sum"):
        assert len(read_table(emulator, signal)) == 100

    s3 = emulator.client("s3")
    errors: list[dict[str, Any]] = []
    for obj in s3.list_objects_v2(Bucket=ERROR_BUCKET, Prefix="errors/gauge/").get("Contents", []):
        body = s3.get_object(Bucket=ERROR_BUCKET, Key=obj["Key"])["Body"].read().decode()
        errors.extend(json.loads(line) for line in body.splitlines())
    assert len(errors) == 100
    assert {e["errorCode"] for e in errors} == {"Iceberg.InsufficientLakeFormationPermissions"}
    raw = sorted(json.loads(base64.b64decode(e["rawData"]))["service_instance_id"] for e in errors)
    assert raw == sorted(r["service_instance_id"] for r in sent["gauge"])
    assert s3.list_objects_v2(Bucket=ERROR_BUCKET, Prefix="errors/logs/").get("KeyCount", 0) == 0

    assert metric_sum(emulator, "DeliveryToIceberg.FailedRowCount", f"{STACK}-gauge") == 100
    assert metric_sum(emulator, "DeliveryToIceberg.SuccessfulRowCount", f"{STACK}-gauge") == 0
    events = emulator.client("logs").get_log_events(logGroupName=LOG_GROUP, logStreamName="gauge")["events"]
    assert any("Iceberg.InsufficientLakeFormationPermissions" in e["message"] for e in events)
