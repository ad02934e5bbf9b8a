"""The local Lambda: zips run in worker processes; Invoke, logs, workers, reset (URLs: test_lambda_urls)."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.lambda_.helpers import (
    ECHO,
    create_function,
    make_zip,
)
from tests.waiting import wait_for


def test_invoke_runs_the_zip_and_tails_the_log(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(
        emulator, "echo", make_zip({"app.py": ECHO}), Environment={"Variables": {"COLOUR": "blue"}}
    )
    resp = lam.invoke(FunctionName="echo", Payload=json.dumps({"hello": "world"}), LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    out = json.loads(resp["Payload"].read())
    assert out["event"] == {"hello": "world"}
    assert out["env"]["COLOUR"] == "blue"
    assert out["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert out["env"]["AWS_REGION"] == emulator.region
    assert out["env"]["AWS_ENDPOINT_URL"] == emulator.endpoint
    assert out["function_name"] == "echo"
    assert 0 < out["remaining_ms"] <= 3000
    assert out["path"][0].endswith("/lambda/code/" + out["sha"])
    assert not any("site-packages" in p for p in out["path"])
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "START RequestId:" in log and "printed by the handler" in log and "REPORT RequestId:" in log


def test_invoke_identity_is_the_function_role(emulator: Any) -> None:
    create_function(emulator, "whoami", make_zip({"app.py": ECHO}))
    out = json.loads(emulator.client("lambda").invoke(FunctionName="whoami")["Payload"].read())
    assert out["env"]["AWS_ACCESS_KEY_ID"] != "testing"
    assert out["env"]["AWS_SESSION_TOKEN"]


def test_invoke_event_and_dry_run(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "echo", make_zip({"app.py": ECHO}))
    assert lam.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202


def test_import_error_is_reported_as_aws_does(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "broken", make_zip({"app.py": "import not_in_the_zip\n" + ECHO}))
    resp = lam.invoke(FunctionName="broken", Payload=b"{}", LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Payload"].read())
    assert err["errorType"] == "Runtime.ImportModuleError"
    assert "not_in_the_zip" in err["errorMessage"]
    assert "Runtime.ImportModuleError" in base64.b64decode(resp["LogResult"]).decode()


def test_site_packages_are_not_importable(emulator: Any) -> None:
    """boto3 is installed in the emulator's venv, but a zip without it cannot import it."""
    create_function(emulator, "needs-boto3", make_zip({"app.py": "import boto3\n" + ECHO}))
    resp = emulator.client("lambda").invoke(FunctionName="needs-boto3")
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_handler_exception_is_unhandled(emulator: Any) -> None:
    code = "def handler(event, context):\n    raise ValueError('boom')\n"
    create_function(emulator, "raises", make_zip({"app.py": code}))
    resp = emulator.client("lambda").invoke(FunctionName="raises")
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Payload"].read())
    assert (err["errorType"], err["errorMessage"]) == ("ValueError", "boom")


def test_timeout_kills_the_worker(emulator: Any) -> None:
    code = "import time\ndef handler(event, context):\n    time.sleep(30)\n"
    create_function(emulator, "sleeper", make_zip({"app.py": code}), Timeout=1)
    resp = emulator.client("lambda").invoke(FunctionName="sleeper")
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Payload"].read())
    assert err["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in err["errorMessage"]


def test_create_function_from_s3_and_update_code(emulator: Any) -> None:
    s3 = emulator.client("s3")
    lam = emulator.client("lambda")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="v1.zip", Body=make_zip({"app.py": ECHO}))
    create_function(emulator, "from-s3", None, Code={"S3Bucket": "artifacts", "S3Key": "v1.zip"})
    first = json.loads(lam.invoke(FunctionName="from-s3")["Payload"].read())
    v2 = "def handler(event, context):\n    return {'version': 2}\n"
    s3.put_object(Bucket="artifacts", Key="v2.zip", Body=make_zip({"app.py": v2}))
    lam.update_function_code(FunctionName="from-s3", S3Bucket="artifacts", S3Key="v2.zip")
    assert json.loads(lam.invoke(FunctionName="from-s3")["Payload"].read()) == {"version": 2}
    assert "event" in first
    with pytest.raises(ClientError) as err:
        create_function(emulator, "missing-key", None, Code={"S3Bucket": "artifacts", "S3Key": "nope.zip"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_create_function_needs_a_role_lambda_can_assume(emulator: Any) -> None:
    iam = emulator.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for role in (arn, f"arn:aws:iam::{emulator.account_id}:role/does-not-exist"):
        with pytest.raises(ClientError) as err:
            create_function(emulator, "f", make_zip({"app.py": ECHO}), Role=role)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_invoke_payload_limits(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "echo", make_zip({"app.py": ECHO}))
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="echo", Payload=json.dumps({"x": "a" * (6 * 1024 * 1024)}))
    assert err.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="echo", Payload=b"not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_logs_go_to_the_function_log_group(emulator: Any) -> None:
    create_function(emulator, "logged", make_zip({"app.py": ECHO}), role_policy=True)
    emulator.client("lambda").invoke(FunctionName="logged", Payload=b"{}")
    logs = emulator.client("logs")

    def messages() -> list[str]:
        streams = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
        if not streams:
            return []
        events = logs.get_log_events(
            logGroupName="/aws/lambda/logged", logStreamName=streams[0]["logStreamName"]
        )
        return [e["message"] for e in events["events"]]

    found = wait_for(lambda: [m for m in messages() if "printed by the handler" in m])
    assert found


def test_reset_stops_every_worker(emulator: Any) -> None:
    from emulator.lambda_ import runtime

    create_function(emulator, "warm", make_zip({"app.py": ECHO}))
    emulator.client("lambda").invoke(FunctionName="warm")
    pids = runtime.POOL.worker_pids()
    assert pids
    emulator.reset()
    assert runtime.POOL.worker_pids() == []
    for pid in pids:
        wait_for(lambda pid=pid: not _alive(pid))  # type: ignore[misc]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_reserved_concurrency_zero_throttles(emulator: Any) -> None:
    lam = emulator.client("lambda", retries={"mode": "standard", "max_attempts": 1})
    create_function(emulator, "off", make_zip({"app.py": ECHO}))
    lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="off")
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_new_configuration_replaces_the_warm_worker(emulator: Any) -> None:
    from emulator.lambda_ import runtime

    lam = emulator.client("lambda")
    create_function(emulator, "cfg", make_zip({"app.py": ECHO}))
    lam.invoke(FunctionName="cfg")
    before = runtime.POOL.worker_pids()
    lam.update_function_configuration(FunctionName="cfg", Environment={"Variables": {"V": "2"}})
    out = json.loads(lam.invoke(FunctionName="cfg")["Payload"].read())
    assert out["env"]["V"] == "2"
    after = runtime.POOL.worker_pids()
    assert len(after) == 1 and after != before


def test_delete_function_stops_its_workers(emulator: Any) -> None:
    from emulator.lambda_ import runtime

    lam = emulator.client("lambda")
    create_function(emulator, "gone", make_zip({"app.py": ECHO}))
    lam.invoke(FunctionName="gone")
    assert runtime.POOL.worker_pids()
    lam.delete_function(FunctionName="gone")
    assert runtime.POOL.worker_pids() == []


def test_bench_lambda_url_runs(emulator: Any) -> None:
    """bench/lambda_url.py's measurement runs against the test emulator (figures are not asserted)."""
    from bench import lambda_url

    figures = lambda_url.bench(emulator.endpoint, runs=1)
    assert set(figures) == {"cold_invoke", "warm_invoke", "warm_url_request", "baseline_get_function"}
    assert all(f["n"] == 1 for f in figures.values())


def test_runtime_must_be_one_the_model_lists(emulator: Any) -> None:
    with pytest.raises(ClientError) as err:
        create_function(emulator, "odd", make_zip({"app.py": ECHO}), Runtime="python9.99")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_init_phase_is_not_part_of_the_timeout(emulator: Any) -> None:
    """Imports run in the init phase (AWS's own 10 s limit); the function's timeout starts with the call."""
    # The init sleeps longer than the timeout; the timeout leaves a loaded machine room for the call.
    code = "import time\ntime.sleep(3.5)\ndef handler(event, context):\n    return 'ok'\n"
    create_function(emulator, "slow-init", make_zip({"app.py": code}), Timeout=3)
    resp = emulator.client("lambda").invoke(FunctionName="slow-init", LogType="Tail")
    assert "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == "ok"
    assert "INIT_START" in base64.b64decode(resp["LogResult"]).decode()
