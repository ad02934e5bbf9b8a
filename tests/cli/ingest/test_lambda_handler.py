"""The receiver as a Lambda handler (ingest/lambda_handler.py).

The events are the shapes AWS documents for Function URL invocations (payload format 2.0); the
Receiver behind them is the real one, with a recording delivery for the unit tests and the local AWS's
Firehose (and Secrets Manager) for the cold-start test.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from ingest import lambda_handler
from ingest.app import Receiver, Settings
from ingest.deliver import Delivery
from lake.deadline import Deadline

TOKEN = "t0kenT0kenT0kenT0kenT0kenT0ken00"
NOW_NS = 1_767_225_600_000_000_000


def _logs(n: int) -> bytes:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "lambda-test"
    sl = rl.scope_logs.add()
    for i in range(n):
        rec = sl.log_records.add()
        rec.time_unix_nano = NOW_NS + i
        rec.body.string_value = f"line {i}"
    return req.SerializeToString()


def url_event(
    path: str,
    body: bytes | str | None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    binary: bool = True,
) -> dict[str, Any]:
    """A Function URL request event (payload 2.0), as AWS's Lambda developer guide shows it."""
    encoded: str | None
    if body is None:
        encoded = None
    elif binary:
        encoded = base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()
    else:
        encoded = body if isinstance(body, str) else body.decode()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnopqrstuvwxyz012345",
            "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefghijklmnopqrstuvwxyz012345",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "OTel-OTLP-Exporter-Python/1.45.2",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "body": encoded,
        "isBase64Encoded": binary and body is not None,
    }


class Recorder:
    """A delivery that records what the Receiver hands on, and fails when told to."""

    def __init__(self, fail: bool = False) -> None:
        self.records: dict[str, list[bytes]] = {}
        self.fail = fail

    def __call__(self, records: dict[str, list[bytes]], deadline: Deadline) -> Delivery:
        out = Delivery()
        for signal, recs in records.items():
            if self.fail:
                out.failed += len(recs)
                out.errors["ServiceUnavailableException"] += len(recs)
            else:
                self.records.setdefault(signal, []).extend(recs)
                out.sent[signal] += len(recs)
        return out


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    settings = Settings(signals=("logs", "traces", "sum", "gauge"), max_body_bytes=6 << 20, token=TOKEN)
    monkeypatch.setattr(lambda_handler, "_RECEIVER", Receiver(settings, rec))
    return rec


AUTH = {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}


def test_binary_protobuf_request_lands_and_answers_base64(recorder: Recorder) -> None:
    out = lambda_handler.handler(url_event("/v1/logs", _logs(3), headers=AUTH), None)
    assert out["statusCode"] == 200
    assert out["isBase64Encoded"] is True
    assert out["headers"]["Content-Type"] == "application/x-protobuf"
    answer = ExportLogsServiceResponse.FromString(base64.b64decode(out["body"]))
    assert answer.partial_success.rejected_log_records == 0
    rows = [json.loads(r) for r in recorder.records["logs"]]
    assert [r["body"] for r in rows] == ["line 0", "line 1", "line 2"]


def test_gzip_body_is_decoded(recorder: Recorder) -> None:
    headers = {**AUTH, "content-encoding": "gzip"}
    out = lambda_handler.handler(url_event("/v1/logs", gzip.compress(_logs(2)), headers=headers), None)
    assert out["statusCode"] == 200
    assert len(recorder.records["logs"]) == 2


def test_json_request_gets_a_text_answer(recorder: Recorder) -> None:
    body = json.dumps(
        {
            "resourceLogs": [
                {"scopeLogs": [{"logRecords": [{"timeUnixNano": str(NOW_NS), "body": {"stringValue": "j"}}]}]}
            ]
        }
    )
    headers = {**AUTH, "content-type": "application/json"}
    out = lambda_handler.handler(url_event("/v1/logs", body, headers=headers, binary=False), None)
    assert out["statusCode"] == 200
    assert out["isBase64Encoded"] is False
    assert json.loads(out["body"]) == {"partialSuccess": {}} or "partialSuccess" not in json.loads(
        out["body"]
    )
    assert len(recorder.records["logs"]) == 1


def test_no_token_is_401_and_nothing_is_handed_on(recorder: Recorder) -> None:
    headers = {"content-type": "application/x-protobuf"}
    out = lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=headers), None)
    assert out["statusCode"] == 401
    assert out["headers"]["WWW-Authenticate"].startswith("Bearer")
    wrong = {**headers, "authorization": "Bearer " + "x" * len(TOKEN)}
    assert lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=wrong), None)["statusCode"] == 401
    assert recorder.records == {}


def test_path_and_method_statuses(recorder: Recorder) -> None:
    assert lambda_handler.handler(url_event("/v1/nope", _logs(1), headers=AUTH), None)["statusCode"] == 404
    got = lambda_handler.handler(url_event("/v1/logs", None, method="GET", headers=AUTH), None)
    assert got["statusCode"] == 405 and got["headers"]["Allow"] == "POST"
    bad = lambda_handler.handler(url_event("/v1/logs", b"\xff\x00garbage", headers=AUTH), None)
    assert bad["statusCode"] == 400
    assert recorder.records == {}


def test_rows_not_handed_on_are_never_200(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(signals=("logs",), max_body_bytes=6 << 20, token=None)
    monkeypatch.setattr(lambda_handler, "_RECEIVER", Receiver(settings, Recorder(fail=True)))
    out = lambda_handler.handler(url_event("/v1/logs", _logs(2), headers=AUTH), None)
    assert out["statusCode"] == 503
    assert out["headers"]["Retry-After"] == "1"


def test_importing_the_handler_calls_nothing() -> None:
    """The cold start happens on the first invocation, so importing (and the zip's import test) is free."""
    import importlib

    importlib.reload(lambda_handler)
    assert lambda_handler._RECEIVER is None


def test_environment_names_signals_and_auth() -> None:
    env = {"OTLP_STREAM_LOGS": "s-logs", "OTLP_STREAM_EXP_HISTOGRAM": "s-exp", "OTLP_AUTH": "iam"}
    assert lambda_handler.signals_from_env(env) == {"logs": "s-logs", "exp_histogram": "s-exp"}
    receiver = lambda_handler.build(env)  # iam: no secret read, no token check
    assert receiver.settings.token is None
    assert receiver.settings.signals == ("logs", "exp_histogram")
    with pytest.raises(lambda_handler.ConfigError):
        lambda_handler.build({"OTLP_AUTH": "token", "OTLP_STREAM_LOGS": "s"})  # token mode without a secret
    with pytest.raises(lambda_handler.ConfigError):
        lambda_handler.build({"OTLP_AUTH": "iam"})  # no stream at all


def test_cold_start_against_the_local_aws(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Token from Secrets Manager (once), rows through the local AWS's Firehose; a wrong token is 401."""
    sm = emulator.client("secretsmanager")
    arn = sm.create_secret(Name="ingest-token-test", SecretString=TOKEN)["ARN"]
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="lambda-handler-test")
    emulator.client("iam").create_role(
        RoleName="fh", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    fh = emulator.client("firehose")
    fh.create_delivery_stream(
        DeliveryStreamName="handler-logs",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/fh",
            "BucketARN": "arn:aws:s3:::lambda-handler-test",
        },
    )
    for key, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "OTLP_STREAM_LOGS": "handler-logs",
        "OTLP_AUTH": "token",
        "OTLP_TOKEN_SECRET_ARN": arn,
    }.items():
        monkeypatch.setenv(key, value)
    lambda_handler.reset()
    emulator.reset_calls()
    try:
        ok = lambda_handler.handler(url_event("/v1/logs", _logs(4), headers=AUTH), None)
        again = lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=AUTH), None)
        refused = lambda_handler.handler(
            url_event("/v1/logs", _logs(1), headers={"content-type": "application/x-protobuf"}), None
        )
    finally:
        lambda_handler.reset()
    assert (ok["statusCode"], again["statusCode"], refused["statusCode"]) == (200, 200, 401)
    assert emulator.call_count("secretsmanager", "GetSecretValue") == 1  # once per cold start
    assert emulator.call_count("firehose", "PutRecordBatch") == 2  # the 401 sent nothing


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_token_is_read_again_once_it_is_older_than_its_ttl() -> None:
    clock, reads = _Clock(), []
    values = iter(["first-token-0000000", "second-token-000000", "boom", "third-token-0000000"])

    def read() -> str:
        value = next(values)
        reads.append(clock.now)
        if value == "boom":
            raise RuntimeError("Secrets Manager is unavailable")
        return value

    token = lambda_handler.CachedToken(read, ttl_s=30, retry_s=5, clock=clock)
    assert token.matches("first-token-0000000") and reads == [1000.0]
    clock.now += 29.9
    assert token.matches("first-token-0000000") and not token.matches("second-token-000000")
    clock.now += 0.1  # 30 s after the read
    assert token.matches("second-token-000000") and not token.matches("first-token-0000000")
    clock.now += 30  # the read fails: the token in hand serves on, and is tried again 5 s later
    assert token.matches("second-token-000000")
    clock.now += 4.9
    assert token.matches("second-token-000000") and len(reads) == 3
    clock.now += 0.1
    assert token.matches("third-token-0000000")
    assert reads == [1000.0, 1030.0, 1060.0, 1065.0]


def test_a_token_changed_in_secrets_manager_is_taken_by_a_warm_function_within_a_minute(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token is changed outside the tool; the warm function takes it once its copy is 30 s old (an
    injected clock: no waiting), and the old token is refused from then on."""
    sm = emulator.client("secretsmanager")
    arn = sm.create_secret(Name="ingest-token-rotated", SecretString=TOKEN)["ARN"]
    for key, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
    }.items():
        monkeypatch.setenv(key, value)
    env = {"OTLP_STREAM_LOGS": "rotated-logs", "OTLP_AUTH": "token", "OTLP_TOKEN_SECRET_ARN": arn}
    clock = _Clock()
    rec = Recorder()
    warm = lambda_handler.build(env, clock=clock)
    monkeypatch.setattr(lambda_handler, "_RECEIVER", Receiver(warm.settings, rec))
    new = "n3wT0kenN3wT0kenN3wT0kenN3wT0ken"

    def status(token: str) -> int:
        headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {token}"}
        return int(
            lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=headers), None)["statusCode"]
        )

    assert status(TOKEN) == 200
    sm.put_secret_value(SecretId=arn, SecretString=new)  # changed outside the tool
    clock.now += lambda_handler.TOKEN_TTL_S - 1
    assert (status(TOKEN), status(new)) == (200, 401)  # the copy in hand is not yet 30 s old
    clock.now += 1
    assert (status(new), status(TOKEN)) == (200, 401)
    assert lambda_handler.TOKEN_TTL_S <= 60  # "within a minute"
    assert emulator.call_count("secretsmanager", "GetSecretValue") == 2
    assert len(rec.records["logs"]) == 3


def test_a_cold_start_a_retry_may_fix_answers_503_and_the_next_invocation_starts(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets Manager throttled through every retry at the cold start: 503 with Retry-After (the exporter
    sends again), not a function error (the URL's 502); once the throttle ends, the next invocation starts."""
    sm = emulator.client("secretsmanager")
    arn = sm.create_secret(Name="ingest-token-throttled", SecretString=TOKEN)["ARN"]
    for key, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "OTLP_STREAM_LOGS": "throttled-logs",
        "OTLP_AUTH": "token",
        "OTLP_TOKEN_SECRET_ARN": arn,
    }.items():
        monkeypatch.setenv(key, value)
    lambda_handler.reset()
    emulator.set_faults({"throttle": {"fraction": 1.0}})
    try:
        busy = lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=AUTH), None)
        emulator.clear_faults()
        rec = Recorder()
        started = lambda_handler.receiver()
        monkeypatch.setattr(lambda_handler, "_RECEIVER", Receiver(started.settings, rec))
        ok = lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=AUTH), None)
    finally:
        emulator.clear_faults()
        lambda_handler.reset()
    assert busy["statusCode"] == 503 and busy["headers"]["Retry-After"] == "1", busy
    assert ok["statusCode"] == 200, ok
    assert len(rec.records["logs"]) == 1


def test_a_cold_start_that_cannot_work_is_a_function_error(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret that does not exist is no hiccup: the function errors (its Errors metric and alarm)."""
    for key, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_REGION": emulator.region,
        "AWS_DEFAULT_REGION": emulator.region,
        "OTLP_STREAM_LOGS": "missing-secret-logs",
        "OTLP_AUTH": "token",
        "OTLP_TOKEN_SECRET_ARN": f"arn:aws:secretsmanager:{emulator.region}:123456789012:secret:gone-AbCdEf",
    }.items():
        monkeypatch.setenv(key, value)
    lambda_handler.reset()
    try:
        with pytest.raises(ClientError):
            lambda_handler.handler(url_event("/v1/logs", _logs(1), headers=AUTH), None)
    finally:
        lambda_handler.reset()
