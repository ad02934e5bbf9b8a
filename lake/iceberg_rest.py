"""The S3 Tables Iceberg REST endpoint: a table's exact metadata (LoadTable) and its commits (UpdateTable).

AWS serves it at `https://s3tables.REGION.amazonaws.com/iceberg` (S3 User Guide, "Accessing tables using the
Amazon S3 Tables Iceberg REST endpoint"); beside any other S3 Tables endpoint (the env's `endpoint`, or the
local AWS's) it is `ENDPOINT/iceberg`. The warehouse is the table bucket's ARN, and requests are signed with
SigV4 for the service `s3tables` with the session's own credentials and region, as the S3 Tables client's.
Access is IAM's alone there (`s3tables:*` actions on the bucket and its tables); Lake Formation governs the
Glue Iceberg REST endpoint, not this one.

Three calls, each one AWS call to its caller: `GetConfig` (the warehouse's path prefix, once per client),
`LoadTable` (a read) and `UpdateTable` (the commit: a write). Each emits botocore's
`before-send.s3tables.OPERATION` event on the session, so a session's call counter counts it (tasks/aws.py);
throttling and 5xx are retried as botocore's standard mode retries them (up to 10 attempts with jittered
backoff), and an error is a botocore `ClientError` whose code is the Iceberg error type
(`NoSuchTableException`, `CommitFailedException`, ...); an unreachable endpoint is botocore's
`EndpointConnectionError`. The tool (tasks/iceberg_rest.py) and the retention function (retention/) share it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.httpsession import URLLib3Session

SIGNING_NAME = "s3tables"
MAX_ATTEMPTS = 10  # botocore's standard retry mode
RETRYABLE = frozenset({429, 500, 502, 503, 504})
NOT_FOUND = ("NoSuchTableException", "NoSuchNamespaceException", "NoSuchWarehouseException")
CONFLICT = "CommitFailedException"  # a requirement of the commit failed: reload and try again


def rest_uri(endpoint_url: str) -> str:
    """The Iceberg REST base URI beside an S3 Tables API endpoint (AWS's, or the env's `endpoint`)."""
    return endpoint_url.rstrip("/") + "/iceberg"


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class IcebergRest:
    """One warehouse (table bucket) of the endpoint; thread-safe (the tool's table steps run at once).

    `session` is a boto3 (or botocore) session: its credentials sign, its events count the calls.
    """

    def __init__(self, session: Any, region: str, endpoint_url: str, warehouse: str) -> None:
        self.session = session
        self.region = region
        self.base = rest_uri(endpoint_url)
        self.warehouse = warehouse
        self._http = URLLib3Session(timeout=60, max_pool_connections=16)
        self._lock = threading.Lock()
        self._prefix: str | None = None

    def prefix(self) -> str:
        """The warehouse's path prefix, from GetConfig (read once)."""
        with self._lock:
            if self._prefix is None:
                doc = self._call("GetConfig", "GET", "/v1/config", query={"warehouse": self.warehouse})
                overrides = doc.get("overrides") or {}
                defaults = doc.get("defaults") or {}
                self._prefix = str(overrides.get("prefix") or defaults.get("prefix") or "")
            return self._prefix

    def _table_path(self, namespace: str, table: str) -> str:
        head = f"/v1/{self.prefix()}" if self.prefix() else "/v1"
        return f"{head}/namespaces/{quote(namespace, safe='')}/tables/{quote(table, safe='')}"

    def load_table(self, namespace: str, table: str) -> dict[str, Any] | None:
        """The LoadTableResult (`metadata-location`, `metadata`), or None when there is no such table (nor
        namespace, nor table bucket)."""
        try:
            return self._call("LoadTable", "GET", self._table_path(namespace, table))
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            raise

    def commit(
        self, namespace: str, table: str, requirements: list[dict[str, Any]], updates: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """One atomic commit (CommitTableRequest): the requirements are checked, then every update applied."""
        body = {
            "identifier": {"namespace": [namespace], "name": table},
            "requirements": requirements,
            "updates": updates,
        }
        return self._call("UpdateTable", "POST", self._table_path(namespace, table), body=body)

    # -- the wire ---------------------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            status, payload = self._send(operation, method, url, data)
            if status < 300:
                return dict(json.loads(payload or b"{}"))
            if status not in RETRYABLE or attempt == MAX_ATTEMPTS:
                raise client_error(operation, status, payload)
            time.sleep(random.uniform(0, min(20.0, 2.0**attempt) / 4))  # botocore's jittered backoff
        raise AssertionError("unreachable")

    def _send(self, operation: str, method: str, url: str, data: bytes | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if data is not None else {}
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        credentials = self.session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        SigV4Auth(credentials.get_frozen_credentials(), SIGNING_NAME, self.region).add_auth(request)
        self.session.events.emit(f"before-send.s3tables.{operation}", request=request)
        response = self._http.send(request.prepare())
        return int(response.status_code), bytes(response.content or b"")


def client_error(operation: str, status: int, payload: bytes) -> ClientError:
    """The Iceberg REST ErrorModel (`{"error": {"message", "type", "code"}}`) as a botocore ClientError."""
    try:
        error = json.loads(payload).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("type") or f"HTTP{status}")
    message = str(error.get("message") or payload[:200].decode("utf-8", "replace"))
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        operation,
    )
