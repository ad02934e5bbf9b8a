"""Identify the AWS service and operation of a raw HTTP request, and render errors per wire protocol.

The botocore service models are the authority: the SigV4 credential scope gives the signing name (mapped
to the botocore service name), then the protocol decides where the operation is: ``X-Amz-Target`` (json),
the ``Action`` parameter (query), the ``/service/S/operation/OP`` path (smithy-rpc-v2-cbor) or the method
+ path matched against every operation's ``http.requestUri`` (rest-json, rest-xml). CBOR bodies: cbor.py.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session

from emulator.core.cbor import cbor_decode, cbor_encode

# Signing names that differ from the botocore service name.
SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "execute-api": "apigateway", "states": "stepfunctions"}

_session_lock = threading.Lock()
_session = botocore.session.get_session()


@dataclass
class Identified:
    service: str
    operation: str
    region: str
    protocol: str
    access_key: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=64)
def service_model(service: str) -> Any:
    with _session_lock:
        return _session.get_service_model(service)


@functools.lru_cache(maxsize=64)
def protocol_of(service: str) -> str:
    try:
        return str(service_model(service).protocol)
    except Exception:
        return "json"


@dataclass
class _Route:
    operation: str
    method: str
    segments: list[str]  # literal text, "{label}" or "{label+}"
    query_required: dict[str, str | None]  # key -> required value (None = key only)
    headers_required: list[str] = field(default_factory=list)  # WSGI environ keys (HTTP_...)

    @property
    def score(self) -> tuple[int, int, int, int]:
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        return (len(self.query_required) + len(self.headers_required), literals, len(self.segments), 0)


@functools.lru_cache(maxsize=64)
def _routes(service: str) -> list[_Route]:
    model = service_model(service)
    routes: list[_Route] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        path, _, qs = uri.partition("?")
        required: dict[str, str | None] = {}
        if qs:
            for part in qs.split("&"):
                key, eq, value = part.partition("=")
                required[key] = value if eq else None
        headers: list[str] = []
        shape = model.operation_model(name).input_shape
        if shape is not None:
            for member in shape.required_members:
                ms = shape.members[member]
                where = ms.serialization.get("location")
                loc_name = ms.serialization.get("name", member)
                if where == "querystring":
                    required.setdefault(loc_name, None)
                elif where == "header":
                    headers.append("HTTP_" + loc_name.upper().replace("-", "_"))
        segs = [s for s in path.split("/") if s != ""]
        routes.append(_Route(name, http.get("method", "POST").upper(), segs, required, headers))
    routes.sort(key=lambda r: r.score, reverse=True)
    return routes


def _match_segments(template: list[str], actual: list[str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    for i, seg in enumerate(template):
        if seg.startswith("{") and seg.endswith("+}"):
            rest = actual[i:]
            if not rest:
                return None
            labels[seg[1:-2]] = "/".join(unquote(s) for s in rest)
            return labels
        if i >= len(actual):
            return None
        if seg.startswith("{") and seg.endswith("}"):
            labels[seg[1:-1]] = unquote(actual[i])
        elif seg != unquote(actual[i]):
            return None
    if len(actual) != len(template):
        return None
    return labels


def match_rest(
    service: str,
    method: str,
    raw_path: str,
    query: dict[str, list[str]],
    environ: dict[str, Any] | None = None,
) -> tuple[str, dict[str, str]] | None:
    """The operation whose requestUri matches; more specific templates (query keys, literals) win."""
    segs = [s for s in raw_path.split("/") if s != ""]
    env = environ or {}
    for route in _routes(service):
        if route.method != method:
            continue
        if any(h not in env for h in route.headers_required):
            continue
        if any(
            k not in query or (v is not None and v not in query[k]) for k, v in route.query_required.items()
        ):
            continue
        labels = _match_segments(route.segments, segs)
        if labels is not None:
            return route.operation, labels
    return None


_CRED_RE = re.compile(r"Credential=([^,\s]+)")


def _credential_scope(environ: dict[str, Any], query: dict[str, list[str]]) -> tuple[str, str, str] | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    cred = None
    m = _CRED_RE.search(auth)
    if m:
        cred = m.group(1)
    elif "X-Amz-Credential" in query:
        cred = query["X-Amz-Credential"][0]
    if not cred:
        return None
    parts = cred.split("/")
    if len(parts) < 5:
        return None
    return parts[0], parts[2], parts[3]  # access key, region, signing name


def _service_for(signing: str, path: str, host: str) -> str:
    signing = signing.lower()
    if signing == "s3" and (path.startswith("/v20180820/") or "s3-control" in host):
        return "s3control"
    return SIGNING_TO_SERVICE.get(signing, signing)


def identify(environ: dict[str, Any], body: bytes) -> Identified | None:
    """Service + operation of one AWS request, or None when it is not recognisable."""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    raw_path, _, raw_qs = raw_uri.partition("?")
    if not raw_qs:
        raw_qs = environ.get("QUERY_STRING", "")
    query = parse_qs(raw_qs, keep_blank_values=True)
    scope = _credential_scope(environ, query)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    host = environ.get("HTTP_HOST", "")
    if scope is None:
        return None
    access_key, region, signing = scope
    service = _service_for(signing, raw_path, host)
    try:
        protocol = protocol_of(service)
    except Exception:
        return None
    content_type = environ.get("CONTENT_TYPE", "")
    operation: str | None = None
    labels: dict[str, str] = {}
    if target:
        operation = target.rsplit(".", 1)[-1]
        protocol = "json"
    elif raw_path.startswith("/service/") and "/operation/" in raw_path:
        operation = raw_path.rsplit("/operation/", 1)[1].strip("/")
        protocol = "smithy-rpc-v2-cbor"
    elif protocol in ("query", "ec2") or content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}
        action = (form.get("Action") or query.get("Action") or [None])[0]
        if action:
            operation = action
            protocol = "query"
    if operation is None and protocol in ("rest-json", "rest-xml"):
        found = match_rest(service, method, raw_path, query, environ)
        if found:
            operation, labels = found
    if operation is None:
        return None
    return Identified(service, operation, region, protocol, access_key, labels)


def parse_body(ident: Identified, body: bytes) -> dict[str, Any]:
    """The request input as a dict where that is cheap (json, rest-json, query)."""
    if ident.protocol in ("json", "rest-json"):
        out: dict[str, Any] = {}
        if body:
            try:
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    out = loaded
            except ValueError:
                out = {}
        for key, value in ident.labels.items():
            out.setdefault(key, value)
        return out
    if ident.protocol == "query":
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}
        return {k: v[-1] for k, v in form.items()}
    if ident.protocol == "smithy-rpc-v2-cbor" and body:
        try:
            decoded = cbor_decode(body)
            return decoded if isinstance(decoded, dict) else {}
        except Exception:
            return {}
    return dict(ident.labels)


# -- error rendering -------------------------------------------------------------------------------


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_error(
    service: str, protocol: str, code: str, message: str, status: int
) -> tuple[int, dict[str, str], bytes]:
    """An AWS error in the wire format botocore's parser for ``protocol`` expects."""
    request_id = str(uuid.uuid4())
    if protocol == "iceberg-rest":  # the Iceberg REST OpenAPI spec's ErrorModel (emulator/s3tables/rest.py)
        body = json.dumps({"error": {"message": message, "type": code, "code": status}}).encode()
        return status, {"Content-Type": "application/json", "x-amzn-RequestId": request_id}, body
    if protocol in ("json", "rest-json"):
        ctype = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        return (
            status,
            {
                "Content-Type": ctype,
                "x-amzn-ErrorType": code,
                "x-amzn-RequestId": request_id,
            },
            body,
        )
    if protocol == "smithy-rpc-v2-cbor":
        body = cbor_encode({"__type": code, "message": message})
        return (
            status,
            {
                "Content-Type": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                "x-amzn-query-error": f"{code};{'Sender' if status < 500 else 'Receiver'}",
                "x-amzn-RequestId": request_id,
            },
            body,
        )
    if protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body
    kind = "Sender" if status < 500 else "Receiver"
    body = (
        "<ErrorResponse><Error>"
        f"<Type>{kind}</Type><Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body
