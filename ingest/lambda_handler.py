"""The receiver as a Lambda function behind a Function URL (payload format 2.0).

`handler(event, context)` turns the URL's event into one call of `ingest.app.Receiver.handle` and its
Response into the URL's response (base64 for binary bodies). The cold start, on the first invocation
(importing this module calls nothing): the settings come from the environment the stack sets, the bearer
token from Secrets Manager (`OTLP_TOKEN_SECRET_ARN`), and its Firehose clients serve every invocation.
The token is read again once it is older than TOKEN_TTL_S, so a token changed outside the tool is taken
within a minute by warm functions too. `OTLP_AUTH=iam` has no token check: the Function URL verifies
SigV4 itself.

Each request's deadline is the invocation's remaining time less ANSWER_MARGIN_S (never later than
`OTLP_SENDER_DEADLINE_SECONDS`): rows not handed on by then get 503 with Retry-After, never a timeout,
which the Function URL would answer with 502 after every row handed on so far (then sent again).
The Receiver never answers 200 for rows it did not hand to Firehose.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ingest.app import DEFAULT_DEADLINE_S, DEFAULT_MAX_ROWS, Receiver, Response, Settings, unavailable
from ingest.deliver import FirehoseDelivery
from lake.deadline import Deadline
from lake.firehose import retryable_code
from lake.signals import ALL_SIGNALS

STREAM_VAR = "OTLP_STREAM_{}"  # one per signal the env has, e.g. OTLP_STREAM_EXP_HISTOGRAM
AUTH_VAR = "OTLP_AUTH"
SECRET_VAR = "OTLP_TOKEN_SECRET_ARN"
MAX_BODY_VAR = "OTLP_MAX_BODY_BYTES"
DEADLINE_VAR = "OTLP_SENDER_DEADLINE_SECONDS"
MAX_ROWS_VAR = "OTLP_MAX_ROWS"
# A Function URL takes at most 6 MB of request payload; the receiver's own limit applies after gzip.
DEFAULT_MAX_BODY = 6 * 1024 * 1024
# Kept back from the invocation's remaining time: the answer is built and returned within it.
ANSWER_MARGIN_S = 2.0
TOKEN_TTL_S = 30.0  # a token read longer ago is read again: a change is taken within a minute
TOKEN_RETRY_S = 5.0  # after a failed read, the token in hand serves this long before the next try
# Text bodies go back as they are; everything else (protobuf) base64-encoded, as payload 2.0 requires.
_TEXT_TYPES = ("application/json", "text/")

_RECEIVER: Receiver | None = None
_LOCK = threading.Lock()


class ConfigError(RuntimeError):
    """The function's environment is not what the stack sets: the function cannot serve."""


def signals_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """signal -> stream, for every signal the stack named a stream for."""

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


class CachedToken:
    """The token from Secrets Manager, read again once older than `ttl_s` on `clock`, so a token changed
    outside the tool (a rotation, `aws secretsmanager put-secret-value`) is taken by warm functions too.

    The first read happens at the cold start and must succeed. A later read that fails keeps the token in
    hand for `retry_s` more (a Secrets Manager hiccup does not turn every request into a 401).
    """

    def __init__(
        self,
        read: Callable[[], str],
        ttl_s: float = TOKEN_TTL_S,
        retry_s: float = TOKEN_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._retry_s = retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value = read()
        self._fresh_until = clock() + ttl_s

    def current(self) -> str:
        with self._lock:
            now = self._clock()
            if now >= self._fresh_until:
                try:
                    self._value = self._read()
                    self._fresh_until = now + self._ttl_s
                except Exception as exc:  # any failure: keep serving with the token in hand
                    logging.getLogger(__name__).warning("reading the token again failed: %s", exc)
                    self._fresh_until = now + self._retry_s
            return self._value

    def matches(self, credential: str) -> bool:
        return hmac.compare_digest(credential.encode(), self.current().encode())  # constant time


def build(
    environ: Mapping[str, str], session: Any = None, clock: Callable[[], float] = time.monotonic
) -> Receiver:
    """The cold start: settings from the environment, the token, one Firehose client."""
    import boto3
    from botocore.config import Config as BotoConfig

    streams = signals_from_env(environ)
    if not streams:
        raise ConfigError("no OTLP_STREAM_<SIGNAL> variable is set: the stack names each signal's stream")
    auth = environ.get(AUTH_VAR, "token")
    session = session or boto3.session.Session()
    token: CachedToken | None = None
    if auth == "token":
        arn = environ.get(SECRET_VAR)
        if not arn:
            raise ConfigError(f"{AUTH_VAR}=token needs {SECRET_VAR}")
        secrets = session.client(
            "secretsmanager", config=BotoConfig(retries={"mode": "standard", "max_attempts": 3})
        )
        token = CachedToken(lambda: read_token(secrets, arn), clock=clock)
    elif auth != "iam":
        raise ConfigError(f"{AUTH_VAR}={auth!r} is invalid: must be token or iam")
    deadline_s = float(environ.get(DEADLINE_VAR) or DEFAULT_DEADLINE_S)
    settings = Settings(
        signals=tuple(streams),
        max_body_bytes=int(environ.get(MAX_BODY_VAR) or DEFAULT_MAX_BODY),
        token=token,
        max_rows=int(environ.get(MAX_ROWS_VAR) or DEFAULT_MAX_ROWS),
        deadline_s=deadline_s,
    )
    return Receiver(settings, FirehoseDelivery(session, None, streams.__getitem__))


def deadline_of(context: Any, settings: Settings, clock: Callable[[], float] = time.monotonic) -> Deadline:
    """The request's deadline: the invocation's remaining time less ANSWER_MARGIN_S, and never later than
    the configured deadline (a context without get_remaining_time_in_millis: the configured one)."""
    seconds = settings.deadline_s
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        seconds = min(seconds, remaining() / 1000 - ANSWER_MARGIN_S)
    return Deadline.after(seconds, clock)


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
    try:
        rec = receiver()
    except Exception as exc:  # a cold start a retry may fix (Secrets Manager throttled): 503, not a crash
        code = retryable_code(exc)
        if code is None:
            raise  # a function that cannot start: its error shows as Errors (and its alarm)
        logging.getLogger(__name__).warning("cold start failed (%s), answered 503: %s", code, exc)
        return response_of(unavailable(headers, f"the receiver could not start yet ({code}): retry"))
    return response_of(rec.handle(method, path, headers, body, deadline_of(context, rec.settings)))
