"""The local Lambda's Function URLs: auth types NONE and AWS_IAM, response shapes, the URL config API."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from emulator.testing import public_url_permissions
from tests.emulator.lambda_.helpers import (
    ECHO,
    create_function,
    create_role,
    http,
    make_zip,
)


def test_function_url_none_needs_both_permissions(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "web", make_zip({"app.py": ECHO}))
    url = lam.create_function_url_config(FunctionName="web", AuthType="NONE")["FunctionUrl"]
    assert url.startswith(f"{emulator.endpoint}/_lambda-url/") and url.endswith("/")
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert len(url_id) == 32 and url_id.isalnum() and url_id.lower() == url_id
    assert http("GET", url + "hi")[0] == 403
    lam.add_permission(
        FunctionName="web",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    status, _, body = http("GET", url + "hi")
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    lam.add_permission(
        FunctionName="web",
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    status, _headers, body = http(
        "POST", url + "v1/traces?a=1&a=2&b=x", b'{"k": 1}', {"Content-Type": "application/json"}
    )
    assert status == 200
    event = json.loads(body)["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/v1/traces"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["headers"]["content-type"] == "application/json"
    ctx = event["requestContext"]
    assert ctx["apiId"] == url_id and ctx["http"]["method"] == "POST" and ctx["http"]["path"] == "/v1/traces"
    assert "authorizer" not in ctx
    assert emulator.call_count("lambda", "InvokeFunctionUrl") == 3


def test_function_url_binary_gzip_body_is_base64(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "web", make_zip({"app.py": ECHO}))
    url = lam.create_function_url_config(FunctionName="web", AuthType="NONE")["FunctionUrl"]
    public_url_permissions(lam, "web")
    raw = b"\x0a\x03abc\xff"
    status, _, body = http(
        "POST",
        url + "v1/logs",
        gzip.compress(raw),
        {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "Cookie": "a=1; b=2"},
    )
    assert status == 200
    event = json.loads(body)["event"]
    assert event["isBase64Encoded"] is True
    assert gzip.decompress(base64.b64decode(event["body"])) == raw
    assert event["headers"]["content-encoding"] == "gzip"
    assert event["cookies"] == ["a=1", "b=2"]


def test_function_url_response_shapes_and_errors(emulator: Any) -> None:
    lam = emulator.client("lambda")
    code = (
        "import base64\n"
        "def handler(event, context):\n"
        "    p = event['rawPath']\n"
        "    if p == '/bin':\n"
        "        return {'statusCode': 201, 'headers': {'content-type': 'application/octet-stream'},\n"
        "                'body': base64.b64encode(b'\\x00\\x01').decode(), 'isBase64Encoded': True,\n"
        "                'cookies': ['s=1']}\n"
        "    if p == '/badstatus':\n"
        "        return {'statusCode': 'abc'}\n"
        "    if p == '/dict':\n"
        "        return {'hello': 'world'}\n"
        "    raise RuntimeError('no')\n"
    )
    create_function(emulator, "shapes", make_zip({"app.py": code}))
    url = lam.create_function_url_config(FunctionName="shapes", AuthType="NONE")["FunctionUrl"]
    public_url_permissions(lam, "shapes")
    status, headers, body = http("GET", url + "bin")
    assert (status, body, headers["content-type"], headers["set-cookie"]) == (
        201,
        b"\x00\x01",
        "application/octet-stream",
        "s=1",
    )
    status, headers, body = http("GET", url + "dict")
    assert (status, json.loads(body), headers["content-type"]) == (
        200,
        {"hello": "world"},
        "application/json",
    )
    for path in ("boom", "badstatus"):
        status, _, body = http("GET", url + path)
        assert (status, json.loads(body)) == (502, {"Message": "Internal Server Error"})
    too_big = b"x" * (6 * 1024 * 1024 + 1)
    assert http("POST", url + "big", too_big, {"Content-Type": "text/plain"})[0] == 413


def test_function_url_aws_iam(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "private", make_zip({"app.py": ECHO}))
    url = lam.create_function_url_config(FunctionName="private", AuthType="AWS_IAM")["FunctionUrl"]
    assert http("POST", url + "v1/metrics", b"{}", {"Content-Type": "application/json"})[0] == 403

    def signed(
        key: str, secret: str, service: str = "lambda", query: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        target = url + "v1/metrics" + query
        req = AWSRequest(method="POST", url=target, data=b"{}", headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(key, secret), service, emulator.region).add_auth(req)
        return http("POST", target, b"{}", dict(req.headers.items()))

    assert signed("AKIAUNKNOWNKEY000000", "secret")[0] == 403
    assert signed("testing", "testing", service="s3")[0] == 403
    assert signed("testing", "not-the-secret")[0] == 403
    assert signed("testing", "testing", query="?a=b%20c&a=1")[0] == 200
    iam = emulator.client("iam")
    iam.create_user(UserName="sender")
    key = iam.create_access_key(UserName="sender")["AccessKey"]
    status, _, body = signed(key["AccessKeyId"], key["SecretAccessKey"])
    assert status == 200
    iam_ctx = json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]
    assert iam_ctx["accessKey"] == key["AccessKeyId"] and iam_ctx["userArn"].endswith(":user/sender")
    sts = emulator.client("sts").assume_role(
        RoleArn=create_role(emulator, "caller"), RoleSessionName="url-caller"
    )
    creds = sts["Credentials"]
    req = AWSRequest(method="GET", url=url + "x", headers={})
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "lambda",
        emulator.region,
    ).add_auth(req)
    assert http("GET", url + "x", None, dict(req.headers.items()))[0] == 200


def test_function_url_config_api(emulator: Any) -> None:
    lam = emulator.client("lambda")
    create_function(emulator, "cfg", make_zip({"app.py": ECHO}))
    with pytest.raises(ClientError) as err:
        lam.get_function_url_config(FunctionName="cfg")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    created = lam.create_function_url_config(FunctionName="cfg", AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    with pytest.raises(ClientError) as err:
        lam.create_function_url_config(FunctionName="cfg", AuthType="NONE")
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    got = lam.get_function_url_config(FunctionName="cfg")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["FunctionUrl"] == created["FunctionUrl"]
    assert lam.update_function_url_config(FunctionName="cfg", AuthType="AWS_IAM")["AuthType"] == "AWS_IAM"
    lam.delete_function_url_config(FunctionName="cfg")
    assert http("GET", created["FunctionUrl"])[0] == 404
    with pytest.raises(ClientError) as err:
        lam.delete_function_url_config(FunctionName="cfg")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
