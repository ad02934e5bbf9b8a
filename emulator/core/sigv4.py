"""SigV4 as AWS's front ends check it: the signature is recomputed from the request as received (the
``SignedHeaders`` it names, the raw path and query, the body's SHA-256 or the ``x-amz-content-sha256`` it
declares) with the secret of the access key, for the credential scope's date, region and service. The
header and presigned-query forms; S3 signs its path as sent, every other service its path URI-encoded
once more (botocore's ``S3SigV4Auth`` / ``SigV4Auth``). The time skew is not checked (the local AWS's
clock may be moved forward by a fault). Used by the AWS API path (auth.py) and the Function URL front.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request\s*,\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]+)"
)


@dataclass(frozen=True)
class Signed:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool
    token: str = ""  # x-amz-security-token (temporary credentials)


def parse(environ: dict[str, Any]) -> Signed | None:
    """The signature's parts from the ``Authorization`` header or a presigned query, or None."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if auth.startswith(ALGORITHM + " "):
        match = _AUTH.search(auth)
        if match is None:
            return None
        return Signed(
            match["key"],
            match["date"],
            match["region"],
            match["service"],
            tuple(match["headers"].split(";")),
            match["signature"],
            str(environ.get("HTTP_X_AMZ_DATE", "")),
            False,
            str(environ.get("HTTP_X_AMZ_SECURITY_TOKEN", "")),
        )
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        return None
    parts = query.get("X-Amz-Credential", "").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return Signed(
        parts[0],
        parts[1],
        parts[2],
        parts[3],
        tuple(query.get("X-Amz-SignedHeaders", "host").split(";")),
        query.get("X-Amz-Signature", ""),
        query.get("X-Amz-Date", ""),
        True,
        query.get("X-Amz-Security-Token", ""),
    )


def _header(environ: dict[str, Any], name: str) -> str:
    if name == "content-type":
        value = environ.get("CONTENT_TYPE", "")
    elif name == "content-length":
        value = environ.get("CONTENT_LENGTH", "")
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return " ".join(str(value).split())


def _canonical_query(raw: str, presigned: bool) -> str:
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(raw, keep_blank_values=True)
        if not (presigned and k == "X-Amz-Signature")
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _canonical_path(raw_path: str, s3: bool) -> str:
    """S3: the path as sent. Others: dot segments and repeated slashes removed (RFC 3986 5.2.4, as
    botocore's ``remove_dot_segments``), then URI-encoded once more."""
    if s3:
        return raw_path or "/"
    kept: list[str] = []
    for part in raw_path.split("/"):
        if part == "..":
            if kept:
                kept.pop()
        elif part and part != ".":
            kept.append(part)
    normal = "/" + "/".join(kept) + ("/" if raw_path.endswith("/") and kept else "")
    return quote(normal, safe="/~")


def valid(environ: dict[str, Any], body: bytes, signed: Signed, secret: str, *, s3: bool = False) -> bool:
    """Whether ``signed.signature`` is the one ``secret`` gives for this request."""
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))
    path = raw_uri.split("?", 1)[0] or "/"
    headers = sorted(h.lower() for h in signed.signed_headers)
    canonical_headers = "".join(f"{h}:{_header(environ, h)}\n" for h in headers)
    payload = str(environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")) or (
        "UNSIGNED-PAYLOAD" if signed.presigned else hashlib.sha256(body).hexdigest()
    )
    canonical = "\n".join(
        [
            str(environ.get("REQUEST_METHOD", "GET")).upper(),
            _canonical_path(path, s3),
            _canonical_query(str(environ.get("QUERY_STRING", "")), signed.presigned),
            canonical_headers,
            ";".join(headers),
            payload,
        ]
    )
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, signed.amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = _hmac(("AWS4" + secret).encode("utf-8"), signed.date)
    for part in (signed.region, signed.service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signed.signature)
