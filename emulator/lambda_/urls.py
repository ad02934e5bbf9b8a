"""The local Function URL front, ``http://127.0.0.1:PORT/_lambda-url/URL_ID/PATH`` (mounted by app.py).

A request becomes the payload format 2.0 event AWS documents for Function URLs (``rawPath`` is the path
after the prefix), the function runs in the worker pool, and its answer becomes the HTTP response as AWS
interprets it (a ``statusCode`` object, or any other JSON value as a 200 ``application/json`` body).
``AuthType: NONE`` needs the resource policy AWS requires of URLs made since October 2025 (public
``lambda:InvokeFunctionUrl`` and ``lambda:InvokeFunction``), else ``403 {"Message":"Forbidden"}``;
``AWS_IAM`` needs a valid SigV4 signature by an access key the emulator knows, scoped to the function's
region and service ``lambda``. The 6 MB synchronous limit is checked on the whole event, as AWS counts it.
Each request is counted as ``lambda``/``InvokeFunctionUrl`` in the call counter.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

from emulator.core import auth, calls, sigv4, wsgi
from emulator.core.wsgi import StartResponse
from emulator.iam import policy
from emulator.lambda_ import models, responses
from emulator.lambda_.exceptions import LambdaError
from lake import lambda_facts

# AWS's synchronous payload limit holds for the whole 2.0 event, where a binary body is base64 (4/3 of its
# size): a 5,000,084-byte protobuf body makes an event above 6,291,456 bytes.
REQUEST_LIMIT = lambda_facts.SYNC_PAYLOAD_LIMIT
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|x-www-form-urlencoded|graphql|[\w.+-]+\+(json|xml)))$"
)

log = logging.getLogger("emulator.lambda")


def _reply(
    start_response: StartResponse, status: int, body: bytes, headers: list[tuple[str, str]]
) -> Iterable[bytes]:
    return wsgi.reply(start_response, status, body, [*headers, ("x-amzn-RequestId", str(uuid.uuid4()))])


def _message(start_response: StartResponse, status: int, message: str) -> Iterable[bytes]:
    return wsgi.message_reply(start_response, status, message, [("x-amzn-RequestId", str(uuid.uuid4()))])


# -- authorisation -----------------------------------------------------------------------------------
def public_allows(statements: list[dict[str, Any]], action: str, arn: str, context: dict[str, str]) -> bool:
    """Whether the function's resource policy lets anyone perform ``action`` (an explicit Deny wins)."""
    return policy.allows(
        statements,
        action,
        (arn, f"{arn}:$LATEST"),
        principal=lambda p: policy.names_principal(p, any_aws=True),
        context=context,
    )


def _none_auth_ok(fn: Any) -> bool:
    statements = list(getattr(fn.policy, "statements", []) or [])
    context = {"lambda:FunctionUrlAuthType": "NONE", "lambda:InvokedViaFunctionUrl": "true"}
    return all(
        public_allows(statements, action, fn.function_arn, context)
        for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")
    )


def _iam_caller(environ: dict[str, Any], body: bytes, region: str) -> dict[str, Any] | None:
    """The SigV4 signer of the request, or None: the credential scope must name the function's region and
    service ``lambda`` (``.../REGION/lambda/aws4_request``), the key must be known and the signature valid."""
    signed = sigv4.parse(environ)
    if signed is None or signed.service != "lambda" or signed.region != region:
        return None
    found = auth.signer(environ, body, signed, region)
    if found is None:
        return None
    return {"accessKey": signed.access_key, "cognitoIdentity": None, "principalOrgId": None, **found.identity}


# -- the 2.0 event and the response ------------------------------------------------------------------
def _is_text(headers: dict[str, str]) -> bool:
    if headers.get("content-encoding"):
        return False
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not ctype or bool(_TEXT_TYPES.match(ctype))


def build_event(
    environ: dict[str, Any],
    url_id: str,
    raw_path: str,
    body: bytes,
    account_id: str,
    caller: dict[str, Any] | None,
) -> dict[str, Any]:
    headers = wsgi.request_headers(environ)
    query = environ.get("QUERY_STRING", "")
    now = datetime.datetime.now(datetime.UTC)
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    domain = headers.get("host", "")
    context: dict[str, Any] = {
        "accountId": "anonymous" if caller is None else caller["accountId"],
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": environ.get("REQUEST_METHOD", "GET"),
            "path": raw_path,
            "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": environ.get("REMOTE_ADDR", "127.0.0.1"),
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if caller is not None:
        context["authorizer"] = {"iam": caller}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if body:
        if _is_text(headers):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def to_http(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """The function's result as AWS's Function URL turns it into HTTP (payload format 2.0)."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        return 502, [("Content-Type", "application/json")], b'{"Message":"Internal Server Error"}'
    if isinstance(result, dict) and "statusCode" in result:
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
        body_value = result.get("body")
        if body_value is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(str(body_value))
        else:
            body = (body_value if isinstance(body_value, str) else json.dumps(body_value)).encode()
        return int(result["statusCode"]), headers, body
    body = result.encode() if isinstance(result, str) else payload
    return 200, [("Content-Type", "application/json")], body


def handle(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = str(environ.get("PATH_INFO", ""))
    rest = path[len(models.LOCAL_URL_PREFIX) :]
    url_id, _, tail = rest.partition("/")
    raw_path = "/" + unquote(tail)
    calls.record("lambda", "InvokeFunctionUrl")
    target = models.url_target(url_id)
    if target is None:
        return _message(start_response, 404, "Not Found")
    account_id, region, name = target
    try:
        fn = models.get_function(account_id, region, name)
    except LambdaError:
        return _message(start_response, 404, "Not Found")
    if responses.url_id_of(fn) != url_id:
        return _message(start_response, 404, "Not Found")
    body = wsgi.read_body(environ)
    if len(body) > REQUEST_LIMIT:
        return _message(start_response, 413, "Request Entity Too Large")
    caller = None
    if fn.url_config is not None and fn.url_config.config.get("AuthType") == "AWS_IAM":
        caller = _iam_caller(environ, body, region)
        if caller is None:
            return _message(start_response, 403, "Forbidden")
    elif not _none_auth_ok(fn):
        return _message(start_response, 403, "Forbidden")
    event = build_event(environ, url_id, raw_path, body, account_id, caller)
    payload = json.dumps(event).encode()
    if len(payload) > REQUEST_LIMIT:  # the invocation event, not the body, is what the limit counts
        return _message(start_response, 413, "Request Entity Too Large")
    try:
        outcome = responses.run(fn, payload, event["requestContext"]["requestId"])
    except LambdaError as exc:
        if exc.code == "TooManyRequestsException":
            return _message(start_response, 429, "Rate Exceeded.")
        return _message(start_response, 502, "Internal Server Error")
    if outcome.function_error:  # AWS logs it to the function's log group; we log it here too
        log.warning(
            "function %s failed behind its URL: %s", name, outcome.payload[:1000].decode(errors="replace")
        )
        return _message(start_response, 502, "Internal Server Error")
    try:
        status, headers, out = to_http(outcome.payload)
    except (TypeError, ValueError, binascii.Error):  # a statusCode or body AWS could not use either
        return _message(start_response, 502, "Internal Server Error")
    return _reply(start_response, status, out, headers)
