"""Firehose with Iceberg destinations in the emulator: delivery, faults, buffering."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.records import encode, make_records
from tests.emulator import helpers as eh
from tests.emulator.firehose.streams_setup import (
    code,
    create_table,
    error_records,
    grant,
    iceberg_config,
    make_stream,
    put,
    rows,
)
from tests.emulator.helpers import FIREHOSE_TRUST as TRUST
from tests.waiting import wait_for


# -- delivery -----------------------------------------------------------------------------------------
def test_batch_delivers_and_bad_record_goes_to_error_bucket(env: dict[str, Any]) -> None:
    name = make_stream(env)
    records = make_records("logs", "run-a", 20)
    bad = dict(records[5])
    del bad["severity_text"]
    payload = [encode(r) for r in records[:5]] + [encode(bad)] + [encode(r) for r in records[6:]]
    resp = put(env, name, payload)
    assert resp["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in resp["RequestResponses"]]
    assert len(set(ids)) == 20
    assert env["emu"].flush() == {"delivered": 19, "failed": 1}
    got = {r["service_instance_id"] for r in rows()}
    assert got == {f"run-a:{i}" for i in range(20) if i != 5}
    errors = error_records(env["emu"], "errors/logs/")
    assert len(errors) == 1
    err = errors[0]
    assert err["errorCode"] == "Iceberg.MissingColumnWithinRecord"
    assert "severity_text" in err["errorMessage"]
    assert base64.b64decode(err["rawData"]) == encode(bad)
    assert set(err) >= {"attemptsMade", "arrivalTimestamp", "attemptEndingTimestamp"}
    events = (
        env["emu"]
        .client("logs")
        .get_log_events(logGroupName="/aws/kinesisfirehose/fh", logStreamName="logs")["events"]
    )
    assert any("Iceberg.MissingColumnWithinRecord" in e["message"] for e in events)


def test_values_types_and_timestamp_forms(env: dict[str, Any]) -> None:
    """With lenient_timestamps (older clients), ISO-8601 forms are accepted beside epoch microseconds."""
    env["emu"].set_options({"lenient_timestamps": True})
    name = make_stream(env)
    base = make_records("logs", "run-t", 6)
    base[0]["timestamp"] = "2026-01-10T12:00:00Z"
    base[1]["timestamp"] = "2026-01-10T14:00:00.123456+02:00"
    base[2]["timestamp"] = 1_768_046_400_000_000  # epoch microseconds
    base[3]["severity_number"] = "nine"  # wrong type
    base[4]["unknown_key"] = {"not": "a column"}  # refused, not ignored: keys must be columns
    payload = [encode(r) for r in base[:5]] + [b"{not json"]
    put(env, name, payload)
    assert env["emu"].flush() == {"delivered": 3, "failed": 3}
    by_key = {r["service_instance_id"]: r for r in rows()}
    assert by_key["run-t:0"]["timestamp"] == datetime(2026, 1, 10, 12, 0, 0)
    assert by_key["run-t:1"]["timestamp"] == datetime(2026, 1, 10, 12, 0, 0, 123456)
    assert by_key["run-t:2"]["timestamp"] == datetime(2026, 1, 10, 12, 0, 0)
    assert "run-t:4" not in by_key
    errors = {e["errorCode"]: e for e in error_records(env["emu"])}
    assert sorted(errors) == [
        "Iceberg.DataTypeMismatch",
        "Iceberg.InvalidRecordFormat",
        "Iceberg.UnknownColumnWithinRecord",
    ]
    assert "unknown_key" in errors["Iceberg.UnknownColumnWithinRecord"]["errorMessage"]


def test_a_record_with_a_key_that_is_no_column_is_refused_alone(env: dict[str, Any]) -> None:
    """Fast path (every record one line, Arrow's reader) and slow path refuse it alike; its neighbours land;
    an optional column that is absent lands as null."""
    name = make_stream(env)
    records = make_records("logs", "run-k", 4)
    records[1]["resource.attributes"] = "x"  # a dotted name the table does not have
    del records[2]["scope_name"]  # optional: absent is null
    put(env, name, [encode(r) for r in records])
    assert env["emu"].flush() == {"delivered": 3, "failed": 1}
    by_key = {r["service_instance_id"]: r for r in rows()}
    assert sorted(by_key) == ["run-k:0", "run-k:2", "run-k:3"]
    assert by_key["run-k:2"]["scope_name"] is None
    assert [e["errorCode"] for e in error_records(env["emu"])] == ["Iceberg.UnknownColumnWithinRecord"]


def test_missing_table_grant_fails_every_record(env: dict[str, Any]) -> None:
    create_table(env["emu"], "sum")
    grant(env["emu"], env["role"], "sum", table_grant=False)
    name = make_stream(env, name="fh-sum", signal="sum")
    put(env, name, [encode(r) for r in make_records("sum", "run-g", 10)])
    assert env["emu"].flush() == {"delivered": 0, "failed": 10}
    assert rows("sum") == []
    errors = error_records(env["emu"], "errors/sum/")
    assert len(errors) == 10
    assert {e["errorCode"] for e in errors} == {"Iceberg.InsufficientLakeFormationPermissions"}
    assert "ALL" in errors[0]["errorMessage"]


def test_role_firehose_cannot_assume_fails_every_record(env: dict[str, Any]) -> None:
    iam = env["emu"].client("iam")
    other = dict(TRUST)
    other["Statement"] = [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    role = iam.create_role(RoleName="not-firehose", AssumeRolePolicyDocument=json.dumps(other))["Role"]["Arn"]
    env["fh"].create_delivery_stream(
        DeliveryStreamName="fh-x", IcebergDestinationConfiguration=iceberg_config(role)
    )
    put(env, "fh-x", [encode(r) for r in make_records("logs", "run-r", 3)])
    assert env["emu"].flush() == {"delivered": 0, "failed": 3}
    errors = error_records(env["emu"])
    assert {e["errorCode"] for e in errors} == {"Iceberg.RoleAssumptionFailed"}
    assert "Unable to assume role" in errors[0]["errorMessage"]


def test_metrics_reach_a_boto3_client(env: dict[str, Any]) -> None:
    name = make_stream(env)
    records = [encode(r) for r in make_records("logs", "run-m", 30)]
    put(env, name, records[:20])
    put(env, name, [*records[20:], b"[]"])
    env["emu"].flush()
    cw = env["emu"].client("cloudwatch")
    now = datetime.now(UTC)

    def total(metric: str) -> float:
        return eh.metric_sum(env["emu"], metric, name, now)

    assert total("IncomingRecords") == 31
    assert total("IncomingPutRequests") == 2
    assert total("IncomingBytes") == sum(len(r) for r in records) + 2
    assert total("DeliveryToIceberg.IncomingRowCount") == 31
    assert total("DeliveryToIceberg.SuccessfulRowCount") == 30
    assert total("DeliveryToIceberg.FailedRowCount") == 1
    assert total("DeliveryToIceberg.Success") >= 1
    data = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "ok",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Firehose",
                        "MetricName": "DeliveryToIceberg.SuccessfulRowCount",
                        "Dimensions": [{"Name": "DeliveryStreamName", "Value": name}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            },
            {
                "Id": "fresh",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Firehose",
                        "MetricName": "DeliveryToIceberg.DataFreshness",
                        "Dimensions": [{"Name": "DeliveryStreamName", "Value": name}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            },
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=5),
    )
    results = {r["Id"]: r for r in data["MetricDataResults"]}
    assert sum(results["ok"]["Values"]) == 30
    assert results["fresh"]["Values"]


# -- faults and buffering -----------------------------------------------------------------------------
def test_put_record_failures_fault(env: dict[str, Any]) -> None:
    name = make_stream(env)
    env["emu"].set_faults({"put_record_failures": {"fraction": 0.2, "seed": 7}})
    records = [encode(r) for r in make_records("logs", "run-f", 500)]
    resp = put(env, name, records)
    assert resp["FailedPutCount"] == 100
    failed = [i for i, r in enumerate(resp["RequestResponses"]) if "ErrorCode" in r]
    assert len(failed) == 100
    assert {resp["RequestResponses"][i]["ErrorCode"] for i in failed} == {"ServiceUnavailableException"}
    assert all("RecordId" in r for r in resp["RequestResponses"] if "ErrorCode" not in r)
    env["emu"].clear_faults()
    assert env["emu"].flush() == {"delivered": 400, "failed": 0}
    got = {r["service_instance_id"] for r in rows()}
    assert got == {f"run-f:{i}" for i in range(500) if i not in set(failed)}


def test_latency_fault_holds_creating_and_deleting(env: dict[str, Any]) -> None:
    """Each state is held (an hour) while the test looks and ended by lowering the latency to 0 (it is
    measured against the current value): no race with a loaded machine."""

    def hold(seconds: float) -> None:
        env["emu"].set_faults({"latency": {"firehose_stream_seconds": seconds}})

    hold(3600.0)
    fh = env["fh"]
    name = make_stream(env)

    def status() -> str:
        return str(
            fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
                "DeliveryStreamStatus"
            ]
        )

    assert status() == "CREATING"
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"{}"])
    assert code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        fh.delete_delivery_stream(DeliveryStreamName=name)
    assert code(exc) == "ResourceInUseException"
    hold(0.0)
    wait_for(lambda: status() == "ACTIVE")
    hold(3600.0)
    fh.delete_delivery_stream(DeliveryStreamName=name)
    assert status() == "DELETING"
    with pytest.raises(ClientError) as exc:
        put(env, name, [b"{}"])
    assert code(exc) == "ResourceNotFoundException"
    hold(0.0)

    def gone() -> bool:
        return name not in fh.list_delivery_streams()["DeliveryStreamNames"]

    wait_for(gone)


def test_stream_failure_fault_ends_creating_failed_and_deleting_failed(env: dict[str, Any]) -> None:
    env["emu"].set_faults(
        {"firehose_stream_failures": {"create": 1, "delete": 1, "type": "KMS_ACCESS_DENIED", "details": "no"}}
    )
    fh = env["fh"]

    def desc(name: str) -> dict[str, Any]:
        return dict(fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"])

    failed = make_stream(env, name="fh-failed")
    assert desc(failed)["DeliveryStreamStatus"] == "CREATING_FAILED"
    assert desc(failed)["FailureDescription"] == {"Type": "KMS_ACCESS_DENIED", "Details": "no"}
    with pytest.raises(ClientError) as exc:
        put(env, failed, [b"{}"])
    assert code(exc) == "ResourceNotFoundException"

    fine = make_stream(env, name="fh-fine")  # the count is used up: the next create is ACTIVE
    assert desc(fine)["DeliveryStreamStatus"] == "ACTIVE" and "FailureDescription" not in desc(fine)

    fh.delete_delivery_stream(DeliveryStreamName=failed)  # a CREATING_FAILED stream can be deleted...
    assert desc(failed)["DeliveryStreamStatus"] == "DELETING_FAILED"  # ...but this delete fails
    fh.delete_delivery_stream(DeliveryStreamName=failed, AllowForceDelete=True)
    with pytest.raises(ClientError) as exc:
        desc(failed)
    assert code(exc) == "ResourceNotFoundException"
    assert env["emu"].faults()["fired"]["firehose_stream_failures"] == 2


def test_stream_failure_fault_is_validated(env: dict[str, Any]) -> None:
    for bad in ({"create": -1}, {"delete": "1"}, {"type": "NOPE"}):
        with pytest.raises(urllib.error.HTTPError) as exc:
            env["emu"].set_faults({"firehose_stream_failures": bad})
        assert exc.value.code == 400


def test_no_latency_fault_is_active_at_once(env: dict[str, Any]) -> None:
    name = make_stream(env)
    desc = env["fh"].describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert desc["DeliveryStreamStatus"] == "ACTIVE"


def test_interval_buffering_waits_until_flush(env: dict[str, Any]) -> None:
    name = make_stream(env, size_mb=128, interval=900)
    put(env, name, [encode(r) for r in make_records("logs", "run-i", 10)])
    assert rows() == []  # neither 128 MB nor 900 s reached
    assert env["emu"].flush() == {"delivered": 10, "failed": 0}
    assert len(rows()) == 10


def test_interval_elapses_delivers(env: dict[str, Any]) -> None:
    name = make_stream(env, size_mb=128, interval=1)
    put(env, name, [encode(r) for r in make_records("logs", "run-e", 10)])
    wait_for(lambda: len(rows()) == 10)


def test_size_buffering_delivers_without_flush(env: dict[str, Any]) -> None:
    name = make_stream(env, size_mb=1, interval=900)
    record = make_records("logs", "run-s", 1)[0]
    small = [encode(r) for r in make_records("logs", "run-s", 5)]
    put(env, name, small)
    assert rows() == []
    big = dict(record)
    big["body"] = "x" * (600 * 1024)
    big2 = dict(big)
    big2["service_instance_id"] = "run-s:99"
    put(env, name, [encode(big), encode(big2)])  # buffer passes 1 MiB
    wait_for(lambda: len(rows()) == 7)


def test_a_failing_destination_is_retried_in_the_retry_window_and_then_delivers(env: dict[str, Any]) -> None:
    """AWS retries a delivery that failed for the destination's sake for RetryOptions.DurationInSeconds: fix
    the destination inside the window and nothing is lost. A record the table cannot take still goes to the
    error bucket, with the attempts made."""
    name = make_stream(env, retry_s=60)
    glue = env["emu"].client("glue")
    glue.delete_catalog(CatalogId="s3tablescatalog")
    records = make_records("logs", "run-r", 5)
    bad = dict(records[4])
    del bad["severity_text"]
    put(env, name, [encode(r) for r in records[:4]] + [encode(bad)])
    assert env["emu"].flush() == {"delivered": 0, "failed": 0, "retrying": 5}
    assert error_records(env["emu"]) == []
    events = (
        env["emu"]
        .client("logs")
        .get_log_events(logGroupName="/aws/kinesisfirehose/fh", logStreamName="logs")["events"]
    )
    assert any("Iceberg.CatalogNotFound" in e["message"] for e in events)  # each failed attempt is logged

    eh.create_s3tables_catalog(glue, CreateDatabaseDefaultPermissions=[], CreateTableDefaultPermissions=[])
    assert env["emu"].flush() == {"delivered": 4, "failed": 1}
    assert {r["service_instance_id"] for r in rows()} == {f"run-r:{i}" for i in range(4)}
    errors = error_records(env["emu"])
    assert [e["errorCode"] for e in errors] == ["Iceberg.MissingColumnWithinRecord"]
    assert errors[0]["attemptsMade"] >= 2  # it waited out the failed attempts with the others


def test_a_destination_still_failing_when_the_window_ends_fills_the_error_bucket(env: dict[str, Any]) -> None:
    name = make_stream(env, retry_s=1)
    env["emu"].client("glue").delete_catalog(CatalogId="s3tablescatalog")
    started = time.monotonic()
    put(env, name, [encode(r) for r in make_records("logs", "run-w", 3)])
    wait_for(lambda: len(error_records(env["emu"])) == 3)  # the background thread's last attempt
    assert time.monotonic() - started >= 1.0
    errors = error_records(env["emu"])
    assert {e["errorCode"] for e in errors} == {"Iceberg.CatalogNotFound"}
    assert min(e["attemptsMade"] for e in errors) >= 2
    assert env["emu"].flush() == {"delivered": 0, "failed": 3}


def test_missing_s3tablescatalog_fails_every_record(env: dict[str, Any]) -> None:
    name = make_stream(env)
    env["emu"].client("glue").delete_catalog(CatalogId="s3tablescatalog")
    put(env, name, [encode(r) for r in make_records("logs", "run-c", 4)])
    assert env["emu"].flush() == {"delivered": 0, "failed": 4}
    errors = error_records(env["emu"])
    assert {e["errorCode"] for e in errors} == {"Iceberg.CatalogNotFound"}
    assert "Catalog not found" in errors[0]["errorMessage"]


@pytest.mark.parametrize(
    ("condition", "lands"),
    [
        ({"StringEquals": {"sts:ExternalId": "123456789012"}}, True),  # the stack's own trust policy
        ({"StringEquals": {"sts:ExternalId": "999999999999"}}, False),
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:firehose:*:123456789012:deliverystream/other-*"}}, False),
    ],
)
def test_the_trust_policys_conditions_decide_whether_firehose_may_assume_the_role(
    env: dict[str, Any], condition: dict[str, Any], lands: bool
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }
    env["emu"].client("iam").update_assume_role_policy(RoleName="fh-role", PolicyDocument=json.dumps(trust))
    name = make_stream(env)
    put(env, name, [encode(r) for r in make_records("logs", "run-x", 2)])
    assert env["emu"].flush() == ({"delivered": 2, "failed": 0} if lands else {"delivered": 0, "failed": 2})
    if not lands:
        errors = error_records(env["emu"])
        assert {e["errorCode"] for e in errors} == {"Iceberg.RoleAssumptionFailed"}
        assert "sts:ExternalId=123456789012" in errors[0]["errorMessage"]
