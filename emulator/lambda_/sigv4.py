"""SigV4 check of a Function URL request with ``AuthType: AWS_IAM``: the signature is recomputed from the
request as received (the ``SignedHeaders`` it names, the raw path and query, the body's SHA-256) with the
secret of the access key, as AWS's front end does. Only the standard's header and presigned-query forms
for service ``lambda``; the time skew is not checked.
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


def valid(environ: dict[str, Any], body: bytes, signed: Signed, secret: str) -> bool:
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
            quote(path, safe="/~"),
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
