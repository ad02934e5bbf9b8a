"""`doit connect`: what a person pastes to send OTLP to the env's Function URL, from the stack's outputs.

The facts come from the stack (outputs `IngestEndpoint`, `IngestFunctionName`, `IngestAuth`,
`IngestTokenSecretArn`) and, for token auth, the secret's value (one GetSecretValue). Rendering is pure, so
the text, the JSON document and the Collector block always say the same thing.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from lake.regions import arn
from tasks.config import Config
from tasks.errors import NotDeployed, UserError

OUTPUT_ENDPOINT = "IngestEndpoint"
OUTPUT_FUNCTION = "IngestFunctionName"
OUTPUT_SECRET = "IngestTokenSecretArn"
OUTPUT_AUTH = "IngestAuth"
AUTH_TOKEN = "token"
AUTH_IAM = "iam"
MASK = "*" * 12
PROTOCOL = "http/protobuf"
SIGV4_EXTENSION = "sigv4auth"
SIGV4_SERVICE = "lambda"  # a Function URL is signed for the lambda service
# A Function URL caller with ingest.auth iam needs both (Lambda guide, since October 2025).
IAM_ACTIONS = ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")
MIB = 1024 * 1024
# The Collector's batches, by serialized (uncompressed) protobuf bytes. The URL's limit is on the whole
# invocation event, where the gzip body is base64 (4/3): 2 MiB of protobuf gzips to at most ~2 MiB, so the
# event stays under 2.8 MB + headers, far below 6,291,456 bytes; and the receiver takes up to
# ingest.max_body_mb after decompression, so a batch never exceeds that either.
MAX_BATCH_BYTES = 2 * MIB
MIN_BATCH_BYTES = MIB // 2
FLUSH_TIMEOUT = "1s"

Auth = Literal["token", "iam"]


@dataclass(frozen=True)
class Connection:
    """The facts `doit connect` prints; `token` is None for iam auth (no secret)."""

    env: str
    region: str
    endpoint: str  # the Function URL as the stack gives it, ending in `/`
    function_name: str
    auth: Auth
    secret_arn: str | None = None
    token: str | None = None
    function_arn: str | None = None  # what an iam caller's policy names (None when not known)
    max_batch_bytes: int = MAX_BATCH_BYTES

    @property
    def base_url(self) -> str:
        """The base URL SDKs and the Collector append `/v1/<signal>` to (no trailing slash: no `//v1`)."""
        return self.endpoint.rstrip("/")

    def shown_token(self, show: bool) -> str | None:
        if self.token is None:
            return None
        return self.token if show else MASK


def _auth(value: str, stack: str) -> Auth:
    if value == AUTH_TOKEN:
        return "token"
    if value == AUTH_IAM:
        return "iam"
    raise UserError(f"error: stack {stack} output {OUTPUT_AUTH}={value!r} is invalid: must be token or iam")


def ingest_enabled(config: Config) -> bool:
    """`ingest.enabled` (default true): the stack holds the function, its URL and (token auth) the secret."""
    return config.ingest.function.enabled


def batch_bytes(config: Config) -> int:
    """The Collector's largest batch: 2 MiB, or less when the receiver takes less (ingest.max_body_mb)."""
    return min(MAX_BATCH_BYTES, config.ingest.max_body_mb * MIB)


def from_outputs(
    config: Config, outputs: dict[str, str], token: str | None = None, account_id: str | None = None
) -> Connection:
    """The connection the stack's outputs describe; a stack without the ingest outputs is not deployed
    as the config says (exit 1)."""
    endpoint = outputs.get(OUTPUT_ENDPOINT)
    if not endpoint:
        raise NotDeployed(
            f"error: stack {config.stack_name} has no {OUTPUT_ENDPOINT} output: the env has no ingest "
            f"endpoint; set ingest.enabled: true and run `doit deploy env={config.env}`"
        )
    auth = _auth(outputs.get(OUTPUT_AUTH, AUTH_TOKEN), config.stack_name)
    secret = outputs.get(OUTPUT_SECRET) or None
    name = outputs.get(OUTPUT_FUNCTION, "")
    return Connection(
        env=config.env,
        region=config.region,
        endpoint=endpoint,
        function_name=name,
        auth=auth,
        secret_arn=secret if auth == "token" else None,
        token=token if auth == "token" else None,
        function_arn=config.arn("lambda", f"function:{name}", account_id) if name and account_id else None,
        max_batch_bytes=batch_bytes(config),
    )


def _account_of(stack_id: str) -> str | None:
    """The account of a stack ARN (`arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/...`)."""
    parts = stack_id.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def read(config: Config, clients: Any) -> Connection:
    """Read the stack's outputs and, for token auth, the token from its secret (read-only)."""
    from tasks.step import Context
    from tasks.steps.stack import outputs_of
    from tasks.steps.stack_events import describe

    if not ingest_enabled(config):
        raise UserError(
            f"error: ingest.enabled is false for env {config.env}: there is no endpoint to connect to "
            "(set ingest.enabled: true and deploy)"
        )
    stack = describe(Context(config, clients), config.stack_name)
    if stack is None or stack.get("StackStatus") in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        raise NotDeployed(
            f"error: stack {config.stack_name} is not deployed: run `doit deploy env={config.env}` first"
        )
    account = _account_of(str(stack.get("StackId", "")))
    conn = from_outputs(config, outputs_of(stack), account_id=account)
    if conn.auth != "token":
        return conn
    if not conn.secret_arn:
        raise NotDeployed(
            f"error: stack {config.stack_name} has no {OUTPUT_SECRET} output for ingest.auth token: "
            f"run `doit deploy env={config.env}`"
        )
    value = clients.client("secretsmanager").get_secret_value(SecretId=conn.secret_arn)
    return from_outputs(config, outputs_of(stack), str(value["SecretString"]), account)


# -- rendering (pure) --------------------------------------------------------------------------------


def headers_env_value(token: str) -> str:
    """OTEL_EXPORTER_OTLP_HEADERS' value: W3C Baggage list format, so the value is percent-encoded
    (the space after `Bearer` becomes %20; the SDKs URL-decode it; `*` of the mask is a baggage octet)."""
    return "Authorization=" + urllib.parse.quote(f"Bearer {token}", safe="-._~*")


def sdk_env(conn: Connection, show: bool) -> dict[str, str]:
    """The SDK's standard environment variables for this endpoint."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": conn.base_url, "OTEL_EXPORTER_OTLP_PROTOCOL": PROTOCOL}
    token = conn.shown_token(show)
    if token is not None:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = headers_env_value(token)
    return env


def exporter_name(conn: Connection) -> str:
    return f"otlphttp/otlp2pipeline-{conn.env}"


def collector(conn: Connection, show: bool) -> dict[str, Any]:
    """An OpenTelemetry Collector config fragment: the otlphttp exporter (and sigv4auth for iam)."""
    exporter: dict[str, Any] = {
        "endpoint": conn.base_url,
        "compression": "gzip",
        # Batches of at most max_batch_bytes serialized bytes: far below the URL's 6 MB event limit, which
        # exporters do not retry (413).
        "sending_queue": {
            "batch": {
                "sizer": "bytes",
                "min_size": min(MIN_BATCH_BYTES, conn.max_batch_bytes),
                "max_size": conn.max_batch_bytes,
                "flush_timeout": FLUSH_TIMEOUT,
            }
        },
    }
    doc: dict[str, Any] = {}
    if conn.auth == "iam":
        doc["extensions"] = {SIGV4_EXTENSION: {"region": conn.region, "service": SIGV4_SERVICE}}
        exporter["auth"] = {"authenticator": SIGV4_EXTENSION}
    else:
        exporter["headers"] = {"Authorization": f"Bearer {conn.shown_token(show)}"}
    doc["exporters"] = {exporter_name(conn): exporter}
    if conn.auth == "iam":
        doc["service"] = {"extensions": [SIGV4_EXTENSION]}
    return doc


def collector_yaml(conn: Connection, show: bool) -> str:
    return yaml.safe_dump(collector(conn, show), sort_keys=False, default_flow_style=False)


def iam_policy(conn: Connection) -> dict[str, Any] | None:
    """ingest.auth iam: the identity policy statement a caller (the Collector's credentials) needs."""
    if conn.auth != "iam":
        return None
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(IAM_ACTIONS),
                "Resource": conn.function_arn
                or arn(conn.region, "lambda", f"function:{conn.function_name}", "ACCOUNT"),
            }
        ],
    }


def document(conn: Connection, show: bool) -> dict[str, Any]:
    """`format=json`: the same facts as the text, one document."""
    return {
        "env": conn.env,
        "region": conn.region,
        "endpoint": conn.endpoint,
        "function_name": conn.function_name,
        "auth": conn.auth,
        "token_secret_arn": conn.secret_arn,
        "token": conn.shown_token(show),
        "token_masked": conn.token is not None and not show,
        "sdk_env": sdk_env(conn, show),
        "collector": collector(conn, show),
        "max_batch_bytes": conn.max_batch_bytes,
        "iam_actions": list(IAM_ACTIONS) if conn.auth == "iam" else [],
        "iam_policy": iam_policy(conn),
    }


def text(conn: Connection, show: bool) -> str:
    lines = [
        f"endpoint: {conn.endpoint}",
        f"auth: {conn.auth}" + (f" (token from {conn.secret_arn})" if conn.auth == "token" else ""),
        "",
        "# OpenTelemetry SDK environment",
    ]
    lines += [f"export {k}={v}" for k, v in sdk_env(conn, show).items()]
    if conn.auth == "iam":
        resource = conn.function_arn or f"the function {conn.function_name}"
        lines.append(
            "# ingest.auth is iam: requests must be SigV4-signed (service lambda, region "
            f"{conn.region}); the SDKs' OTLP exporters do not sign, so send through the Collector below"
        )
        lines.append(
            f"# the signing identity needs both {' and '.join(IAM_ACTIONS)} on {resource} "
            "(a Function URL checks both)"
        )
    lines += [
        "",
        "# OpenTelemetry Collector (add the exporter to your pipelines)",
        collector_yaml(conn, show),
    ]
    return "\n".join(lines).rstrip("\n")
