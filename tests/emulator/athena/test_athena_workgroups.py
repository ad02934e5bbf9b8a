"""Athena workgroups on the local AWS: the API as Athena answers it, the configuration a query runs with
(result location, encryption, the override, the bytes-scanned cutoff), and AWS::Athena::WorkGroup in a
stack."""

from __future__ import annotations

import base64
import json
import os

import pytest
from botocore.exceptions import ClientError

from tests.emulator.athena.conftest import OUTPUT, RESULTS, append, log_row, run, values
from tests.emulator.helpers import error_code

CUTOFF = 10_000_000  # the model's (and the resource schema's) least BytesScannedCutoffPerQuery


def _config(**over):
    cfg = {
        "ResultConfiguration": {
            "OutputLocation": f"s3://{RESULTS}/wg/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
    }
    cfg.update(over)
    return cfg


def test_create_get_list_update_delete(lake):
    ath = lake["athena"]
    ath.create_work_group(Name="lake", Configuration=_config(), Description="the lake")
    with pytest.raises(ClientError) as exc:
        ath.create_work_group(Name="lake")
    assert exc.value.response["Error"]["Message"] == "WorkGroup lake is already created"
    wg = ath.get_work_group(WorkGroup="lake")["WorkGroup"]
    assert wg["State"] == "ENABLED" and wg["Description"] == "the lake"
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == f"s3://{RESULTS}/wg/"
    assert wg["Configuration"]["EngineVersion"] == {
        "SelectedEngineVersion": "AUTO",
        "EffectiveEngineVersion": "Athena engine version 3",
    }
    created = wg["CreationTime"]
    assert ath.get_work_group(WorkGroup="lake")["WorkGroup"]["CreationTime"] == created
    ath.update_work_group(
        WorkGroup="lake",
        State="DISABLED",
        ConfigurationUpdates={"BytesScannedCutoffPerQuery": CUTOFF, "ResultConfigurationUpdates": {}},
    )
    wg = ath.get_work_group(WorkGroup="lake")["WorkGroup"]
    assert wg["State"] == "DISABLED" and wg["Configuration"]["BytesScannedCutoffPerQuery"] == CUTOFF
    with pytest.raises(ClientError) as exc:
        ath.start_query_execution(QueryString="SELECT 1", WorkGroup="lake")
    assert exc.value.response["Error"]["Message"] == "WorkGroup lake is disabled."
    for name in ("a1", "a2"):
        ath.create_work_group(Name=name)
    page = ath.list_work_groups(MaxResults=2)
    assert [w["Name"] for w in page["WorkGroups"]] == ["a1", "a2"]
    rest = ath.list_work_groups(NextToken=page["NextToken"])
    assert [w["Name"] for w in rest["WorkGroups"]] == ["lake", "primary"] and "NextToken" not in rest
    ath.delete_work_group(WorkGroup="a1")
    with pytest.raises(ClientError) as exc:
        ath.get_work_group(WorkGroup="a1")
    assert error_code(exc) == "InvalidRequestException"
    assert exc.value.response["Error"]["Message"] == "WorkGroup a1 is not found."
    with pytest.raises(ClientError) as exc:
        ath.delete_work_group(WorkGroup="primary")
    assert error_code(exc) == "InvalidRequestException"


def test_the_models_rules_for_a_configuration(lake, emulator):
    raw = emulator.client("athena", parameter_validation=False)
    bad = [
        {"BytesScannedCutoffPerQuery": CUTOFF - 1},
        {"ResultConfiguration": {"EncryptionConfiguration": {"EncryptionOption": "AES"}}},
        {"ResultConfiguration": {"OutputLocation": "https://example.com/x"}},
        {"EngineVersion": {"SelectedEngineVersion": "PySpark engine version 3"}},
    ]
    for cfg in bad:
        with pytest.raises(ClientError) as exc:
            raw.create_work_group(Name="bad", Configuration=cfg)
        assert error_code(exc) == "InvalidRequestException", cfg
    with pytest.raises(ClientError) as exc:
        raw.create_work_group(Name="bad name!")
    assert "regular expression pattern" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        raw.get_work_group(WorkGroup="bad")


def test_a_used_workgroup_is_not_empty_unless_deleted_recursively(lake):
    ath = lake["athena"]
    ath.create_work_group(Name="used", Configuration=_config())
    qe = run(ath, "SELECT count(*) FROM logs", WorkGroup="used")
    assert qe["Status"]["State"] == "SUCCEEDED"
    with pytest.raises(ClientError) as exc:
        ath.delete_work_group(WorkGroup="used")
    assert exc.value.response["Error"]["Message"] == "WorkGroup used is not empty"
    ath.delete_work_group(WorkGroup="used", RecursiveDeleteOption=True)
    with pytest.raises(ClientError):
        ath.get_query_execution(QueryExecutionId=qe["QueryExecutionId"])


def test_the_enforced_workgroup_configuration_overrides_the_clients(lake):
    ath, s3 = lake["athena"], lake["emu"].client("s3")
    ath.create_work_group(Name="lake", Configuration=_config())
    qe = run(ath, "SELECT 1", WorkGroup="lake", ResultConfiguration={"OutputLocation": OUTPUT})
    qid = qe["QueryExecutionId"]
    assert qe["ResultConfiguration"]["OutputLocation"] == f"s3://{RESULTS}/wg/{qid}.csv"
    assert qe["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert s3.get_object(Bucket=RESULTS, Key=f"wg/{qid}.csv")["ServerSideEncryption"] == "AES256"
    ath.create_work_group(Name="open", Configuration=_config(EnforceWorkGroupConfiguration=False))
    qe = run(ath, "SELECT 1", WorkGroup="open", ResultConfiguration={"OutputLocation": OUTPUT})
    assert qe["ResultConfiguration"]["OutputLocation"] == f"{OUTPUT}{qe['QueryExecutionId']}.csv"
    metrics = lake["emu"].client("cloudwatch").list_metrics(Namespace="AWS/Athena")["Metrics"]
    assert {"ProcessedBytes", "TotalExecutionTime"} <= {m["MetricName"] for m in metrics}


def test_a_query_over_the_bytes_scanned_cutoff_is_cancelled(lake):
    ath = lake["athena"]
    big = [log_row(100 + i, body=base64.b64encode(os.urandom(12_000)).decode()) for i in range(1200)]
    append(lake["arn"], big)
    ath.create_work_group(Name="capped", Configuration=_config(BytesScannedCutoffPerQuery=CUTOFF))
    qe = run(ath, "SELECT max(length(body)) FROM logs", WorkGroup="capped")
    assert qe["Status"]["State"] == "CANCELLED", qe["Status"]
    assert qe["Status"]["StateChangeReason"] == "Bytes scanned limit was exceeded"
    assert qe["Statistics"]["DataScannedInBytes"] == CUTOFF
    with pytest.raises(ClientError):
        ath.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
    # The same rows, other columns: Athena counts only the column chunks a query reads.
    narrow = run(ath, "SELECT count(*) FROM logs WHERE service_name = 'cart'", WorkGroup="capped")
    assert narrow["Status"]["State"] == "SUCCEEDED", narrow["Status"]
    assert 0 < narrow["Statistics"]["DataScannedInBytes"] < CUTOFF
    assert values(ath, narrow["QueryExecutionId"])[1] == ["603"]


def _template(**props):
    wg = {"Name": "lake", "WorkGroupConfiguration": _config(BytesScannedCutoffPerQuery=CUTOFF), **props}
    return json.dumps(
        {
            "Resources": {"WorkGroup": {"Type": "AWS::Athena::WorkGroup", "Properties": wg}},
            "Outputs": {
                "Name": {"Value": {"Ref": "WorkGroup"}},
                "Engine": {
                    "Value": {
                        "Fn::GetAtt": [
                            "WorkGroup",
                            "WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion",
                        ]
                    }
                },
            },
        }
    )


def _stack(cfn, name):
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def test_the_workgroup_in_a_stack(lake):
    emu, ath = lake["emu"], lake["athena"]
    cfn = emu.client("cloudformation")
    cfn.create_stack(StackName="q", TemplateBody=_template(Tags=[{"Key": "env", "Value": "dev"}]))
    stack = _stack(cfn, "q")
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
        "Name": "lake",
        "Engine": "Athena engine version 3",
    }
    assert (
        ath.get_work_group(WorkGroup="lake")["WorkGroup"]["Configuration"]["BytesScannedCutoffPerQuery"]
        == CUTOFF
    )
    arn = "arn:aws:athena:us-east-1:123456789012:workgroup/lake"
    assert ath.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    cfn.update_stack(StackName="q", TemplateBody=_template(Description="queries", RecursiveDeleteOption=True))
    assert _stack(cfn, "q")["StackStatus"] == "UPDATE_COMPLETE"
    assert ath.get_work_group(WorkGroup="lake")["WorkGroup"]["Description"] == "queries"
    assert ath.list_tags_for_resource(ResourceARN=arn).get("Tags", []) == []
    assert run(ath, "SELECT count(*) FROM logs", WorkGroup="lake")["Status"]["State"] == "SUCCEEDED"
    cfn.delete_stack(StackName="q")  # RecursiveDeleteOption: the used workgroup goes
    with pytest.raises(ClientError):
        ath.get_work_group(WorkGroup="lake")


def test_a_stack_cannot_delete_a_used_workgroup_without_recursive_delete(lake):
    emu, ath = lake["emu"], lake["athena"]
    cfn = emu.client("cloudformation")
    cfn.create_stack(StackName="q", TemplateBody=_template())
    run(ath, "SELECT 1", WorkGroup="lake")
    cfn.delete_stack(StackName="q")
    stack = _stack(cfn, "q")
    assert stack["StackStatus"] == "DELETE_FAILED"
    events = cfn.describe_stack_events(StackName="q")["StackEvents"]
    assert any("is not empty" in (e.get("ResourceStatusReason") or "") for e in events)


def _reasons(cfn, name):
    return [
        e.get("ResourceStatusReason") or "" for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
    ]


def test_the_stack_refuses_what_the_resource_schema_refuses(lake):
    cfn = lake["emu"].client("cloudformation")
    bad = json.loads(_template())
    bad["Resources"]["WorkGroup"]["Properties"]["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] = 5
    bad["Resources"]["WorkGroup"]["Properties"]["Name"] = "small"
    cfn.create_stack(StackName="bad", TemplateBody=json.dumps(bad))
    assert _stack(cfn, "bad")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("BytesScannedCutoffPerQuery: 5 is less than the minimum" in r for r in _reasons(cfn, "bad"))
    bad = json.loads(_template(Unknown=1))
    bad["Resources"]["WorkGroup"]["Properties"]["Name"] = "other"
    cfn.create_stack(StackName="bad2", TemplateBody=json.dumps(bad))
    assert _stack(cfn, "bad2")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("'Unknown' was unexpected" in r for r in _reasons(cfn, "bad2"))
