"""The receiver as a Lambda function behind a Function URL (payload format 2.0).

`handler(event, context)` turns the URL's event into one call of `ingest.app.Receiver.handle` and its
Response into the URL's response (base64 for binary bodies). The cold start, on the first invocation
(importing this module calls nothing): the settings come from the environment the stack sets, the bearer
token from Secrets Manager (`OTLP_TOKEN_SECRET_ARN`, read once per cold start), and one Firehose client
serves every invocation. `OTLP_AUTH=iam` has no token check: the Function URL verifies SigV4 itself.
The Receiver never answers 200 for rows it did not hand to Firehose.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Mapping
from typing import Any

from ingest.app import Receiver, Response, Settings
from ingest.deliver import FirehoseDelivery

STREAM_VAR = "OTLP_STREAM_{}"  # one per signal the env has, e.g. OTLP_STREAM_EXP_HISTOGRAM
AUTH_VAR = "OTLP_AUTH"
SECRET_VAR = "OTLP_TOKEN_SECRET_ARN"
MAX_BODY_VAR = "OTLP_MAX_BODY_BYTES"
DEADLINE_VAR = "OTLP_SENDER_DEADLINE_SECONDS"
# A Function URL takes at most 6 MB of request payload; the receiver's own limit applies after gzip.
DEFAULT_MAX_BODY = 6 * 1024 * 1024
DEFAULT_DEADLINE_S = 30.0
# Text bodies go back as they are; everything else (protobuf) base64-encoded, as payload 2.0 requires.
_TEXT_TYPES = ("application/json", "text/")

_RECEIVER: Receiver | None = None
_LOCK = threading.Lock()


class ConfigError(RuntimeError):
    """The function's environment is not what the stack sets: the function cannot serve."""


def signals_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """signal -> stream, for every signal the stack named a stream for."""
    from tasks.schemas import ALL_SIGNALS

    return {
        s: environ[STREAM_VAR.format(s.upper())]
        for s in ALL_SIGNALS
        if environ.get(STREAM_VAR.format(s.upper()))
    }


def read_token(secrets: Any, secret_arn: str) -> str:
    """The bearer token: the secret's whole SecretString (CloudFormation generated it)."""
    value = secrets.get_secret_value(SecretId=secret_arn).get("SecretString")
    if not value:
        raise ConfigError(f"secret {secret_arn} has no SecretString: the token must be a string secret")
    return str(value)


def build(environ: Mapping[str, str], session: Any = None) -> Receiver:
    """The cold start: settings from the environment, the token once, one Firehose client."""
    import boto3
    from botocore.config import Config as BotoConfig

    streams = signals_from_env(environ)
    if not streams:
        raise ConfigError("no OTLP_STREAM_<SIGNAL> variable is set: the stack names each signal's stream")
    auth = environ.get(AUTH_VAR, "token")
    session = session or boto3.session.Session()
    retries = BotoConfig(retries={"mode": "standard", "max_attempts": 5})
    token: str | None = None
    if auth == "token":
        arn = environ.get(SECRET_VAR)
        if not arn:
            raise ConfigError(f"{AUTH_VAR}=token needs {SECRET_VAR}")
        token = read_token(session.client("secretsmanager", config=retries), arn)
    elif auth != "iam":
        raise ConfigError(f"{AUTH_VAR}={auth!r} is invalid: must be token or iam")
    settings = Settings(
        signals=tuple(streams),
        max_body_bytes=int(environ.get(MAX_BODY_VAR) or DEFAULT_MAX_BODY),
        token=token,
    )
    deadline = float(environ.get(DEADLINE_VAR) or DEFAULT_DEADLINE_S)
    firehose = session.client("firehose", config=retries)
    return Receiver(settings, FirehoseDelivery(firehose, streams.__getitem__, deadline))


def receiver() -> Receiver:
    """The one Receiver of this execution environment, built on first use."""
    global _RECEIVER
    with _LOCK:
        if _RECEIVER is None:
            _RECEIVER = build(os.environ)
        return _RECEIVER


def reset() -> None:
    """Forget the Receiver (tests: the next invocation is a cold start)."""
    global _RECEIVER
    with _LOCK:
        _RECEIVER = None


def request_of(event: Mapping[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    """(method, path, headers, body) of a payload-2.0 event; rawQueryString is left out, as the receiver
    routes by path alone."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "GET")
    path = str(event.get("rawPath") or http.get("path") or "/")
    headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body")
    if raw is None:
        body = b""
    elif event.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = str(raw).encode("utf-8")
    return method, path, headers, body


def response_of(resp: Response) -> dict[str, Any]:
    """The URL's response: text bodies as text, binary ones base64-encoded."""
    ctype = next((v for k, v in resp.headers.items() if k.lower() == "content-type"), "")
    text = ctype.startswith(_TEXT_TYPES)
    return {
        "statusCode": resp.status,
        "headers": dict(resp.headers),
        "body": resp.body.decode("utf-8") if text else base64.b64encode(resp.body).decode("ascii"),
        "isBase64Encoded": not text,
    }


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Function URL event in, Function URL response out."""
    method, path, headers, body = request_of(event)
    return response_of(receiver().handle(method, path, headers, body))
