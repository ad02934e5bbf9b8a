"""The local AWS is for this machine only: loopback Host names (plus configured ones), no cross-site
requests to the admin API or the AWS API, and every AWS call SigV4-signed by a key it knows."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from bench.emulator import free_port, wait_healthy
from emulator.admin.routes import health
from emulator.core import guard
from lake import sessions
from tests.deploy_helpers import ROOT
from tests.emulator.lambda_.helpers import create_role


def raw(
    emu: Any, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One request to ``emu`` (a handle or an endpoint) with exactly these headers (``Host`` too:
    http.client adds none of its own)."""
    parts = urlsplit(emu if isinstance(emu, str) else emu.endpoint)
    conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _host(emu: Any) -> str:
    return str(urlsplit(emu.endpoint).netloc)


def _signed(
    url: str, service: str, target: str, body: dict[str, Any], secret: str = "testing"
) -> dict[str, str]:
    req = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    SigV4Auth(Credentials("testing", secret), service, "us-east-1").add_auth(req)
    return {"Host": str(urlsplit(url).netloc), **dict(req.headers.items())}


# -- Host: loopback names only (DNS rebinding) -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_emulator/health", "/", "/_lambda-url/0123456789abcdef0123456789abcdef/"])
def test_a_foreign_host_is_refused_on_every_path(emulator: Any, path: str) -> None:
    status, body = raw(emulator, "GET", path, headers={"Host": "attacker.example:4566"})
    assert status == 403
    assert "attacker.example" in json.loads(body)["Message"]
    status, _ = raw(emulator, "GET", path, headers={})
    assert status == 400  # no Host at all


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:1", "[::1]:4566", "localhost.:9"])
def test_loopback_hosts_with_any_port_are_answered(emulator: Any, host: str) -> None:
    status, body = raw(emulator, "GET", "/_emulator/health", headers={"Host": host})
    assert (status, json.loads(body)) == (200, health())


def test_configured_hosts_are_answered_too() -> None:
    environ = {"HTTP_HOST": "devbox.internal:4566", "REQUEST_METHOD": "GET"}
    try:
        assert guard.refusal(environ, admin=False) is not None
        guard.set_allowed_hosts(["DevBox.Internal"])
        assert guard.refusal(environ, admin=False) is None
        assert guard.refusal({**environ, "HTTP_HOST": "other.internal"}, admin=False) is not None
    finally:
        guard.set_allowed_hosts([])


def test_python_m_emulator_allow_host_flag(tmp_path: Any) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(tmp_path / "d")]
    proc = subprocess.Popen(
        [*cmd, "--allow-host", "devbox.internal"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(endpoint, proc, time.monotonic() + 60)
        assert (
            raw(endpoint, "GET", "/_emulator/health", headers={"Host": f"devbox.internal:{port}"})[0] == 200
        )
        assert raw(endpoint, "GET", "/_emulator/health", headers={"Host": "elsewhere.internal"})[0] == 403
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- the admin API refuses cross-site requests (CSRF) --------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_non_json_reset_is_refused_and_the_state_is_kept(emulator: Any, content_type: str | None) -> None:
    emulator.client("s3").create_bucket(Bucket="kept")
    headers = {"Host": _host(emulator)}
    if content_type:
        headers["Content-Type"] = content_type
    status, body = raw(emulator, "POST", "/_emulator/reset", b"{}", headers)
    assert status == 415, body
    assert "Content-Type: application/json" in json.loads(body)["Message"]
    assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == ["kept"]


@pytest.mark.parametrize("origin", ["https://attacker.example", "null", "http://127.0.0.1.attacker.example"])
def test_a_foreign_origin_is_refused_even_with_json(emulator: Any, origin: str) -> None:
    emulator.client("s3").create_bucket(Bucket="kept")
    headers = {"Host": _host(emulator), "Content-Type": "application/json", "Origin": origin}
    assert raw(emulator, "POST", "/_emulator/reset", b"{}", headers)[0] == 403
    assert raw(emulator, "POST", "/_emulator/faults", b'{"clock": {"offset_seconds": 9}}', headers)[0] == 403
    assert "clock" not in emulator.faults()["faults"]
    assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == ["kept"]


def test_a_loopback_origin_with_json_is_answered(emulator: Any) -> None:
    headers = {"Host": _host(emulator), "Content-Type": "application/json", "Origin": "http://localhost:3000"}
    assert raw(emulator, "POST", "/_emulator/calls/reset", b"{}", headers)[0] == 200


def test_the_admin_client_still_works(emulator: Any) -> None:
    emulator.client("s3").create_bucket(Bucket="gone")
    emulator.reset()  # a write without a payload
    assert emulator.client("s3").list_buckets()["Buckets"] == []
    emulator.clear_faults()
    assert emulator.set_faults({"clock": {"offset_seconds": 1}})["faults"]["clock"] == {"offset_seconds": 1}


def test_motos_own_api_is_not_exposed(emulator: Any) -> None:
    emulator.client("s3").create_bucket(Bucket="kept")
    assert raw(emulator, "POST", "/moto-api/reset", b"", {"Host": _host(emulator)})[0] == 404
    assert [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]] == ["kept"]


# -- the AWS API: a foreign Origin, and signatures ---------------------------------------------------------


def test_the_aws_api_refuses_a_foreign_origin_and_answers_no_cors(emulator: Any) -> None:
    secret = emulator.client("secretsmanager").create_secret(Name="token", SecretString="s3cr3t")["ARN"]
    url = f"{emulator.endpoint}/"
    headers = _signed(url, "secretsmanager", "secretsmanager.GetSecretValue", {"SecretId": secret})
    body = json.dumps({"SecretId": secret}).encode()
    status, answer = raw(emulator, "POST", "/", body, {**headers, "Origin": "https://attacker.example"})
    assert status == 403 and b"s3cr3t" not in answer
    preflight = {
        "Host": _host(emulator),
        "Origin": "https://attacker.example",
        "Access-Control-Request-Method": "POST",
    }
    assert raw(emulator, "OPTIONS", "/", b"", preflight)[0] == 403
    assert raw(emulator, "POST", "/", body, headers)[0] == 200  # the same request, signed, from no page


def test_a_fake_signature_does_not_read_a_secret(emulator: Any) -> None:
    arn = emulator.client("secretsmanager").create_secret(Name="token", SecretString="s3cr3t")["ARN"]
    body = json.dumps({"SecretId": arn}).encode()
    scope = "Credential=testing/20260101/us-east-1/secretsmanager/aws4_request"
    headers = {
        "Host": _host(emulator),
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature={'0' * 64}",
    }
    status, answer = raw(emulator, "POST", "/", body, headers)
    assert status == 403 and b"s3cr3t" not in answer
    assert json.loads(answer)["__type"] == "InvalidSignatureException"
    unsigned = {k: v for k, v in headers.items() if k != "Authorization"}
    status, answer = raw(emulator, "POST", "/", body, unsigned)
    assert status == 403 and b"s3cr3t" not in answer


def _client(emu: Any, service: str, key: str, secret: str, token: str | None = None) -> Any:
    return sessions.session().client(  # type: ignore[call-overload]  # a service named at run time
        service,
        endpoint_url=emu.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


@pytest.mark.parametrize(
    ("service", "call", "unknown", "bad"),
    [
        ("secretsmanager", "list_secrets", "UnrecognizedClientException", "InvalidSignatureException"),
        ("sts", "get_caller_identity", "InvalidClientTokenId", "SignatureDoesNotMatch"),
        ("s3", "list_buckets", "InvalidAccessKeyId", "SignatureDoesNotMatch"),
        ("lambda", "list_functions", "UnrecognizedClientException", "InvalidSignatureException"),
    ],
)
def test_an_unknown_key_or_a_wrong_secret_is_refused_per_protocol(
    emulator: Any, service: str, call: str, unknown: str, bad: str
) -> None:
    for key, secret, code in (("AKIAUNKNOWN000000000", "x", unknown), ("testing", "not-the-secret", bad)):
        with pytest.raises(ClientError) as err:
            getattr(_client(emulator, service, key, secret), call)()
        assert err.value.response["Error"]["Code"] == code, (service, key)
    getattr(_client(emulator, service, "testing", "testing"), call)()


def test_temporary_credentials_need_their_session_token(emulator: Any) -> None:
    creds = emulator.client("sts").assume_role(RoleArn=create_role(emulator, "temp"), RoleSessionName="ss")[
        "Credentials"
    ]
    key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    assert "assumed-role/temp/ss" in _client(emulator, "sts", key, secret, token).get_caller_identity()["Arn"]
    for wrong in (None, token[:-4] + "AAAA"):
        with pytest.raises(ClientError) as err:
            _client(emulator, "sts", key, secret, wrong).get_caller_identity()
        assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_iam_user_keys_sign_and_deleted_keys_do_not(emulator: Any) -> None:
    iam = emulator.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    s3 = _client(emulator, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    s3.create_bucket(Bucket="users-bucket")
    s3.put_object(Bucket="users-bucket", Key="a/b c.txt", Body=b"x" * 10)  # a path S3 signs as sent
    assert s3.get_object(Bucket="users-bucket", Key="a/b c.txt")["Body"].read() == b"x" * 10
    iam.delete_access_key(UserName="dev", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as err:
        s3.list_buckets()
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
