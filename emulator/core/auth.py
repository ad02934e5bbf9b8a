"""Who signed an AWS request, and whether the signature holds: every AWS API call to the local AWS must
be SigV4-signed by an access key it knows, with the right secret (and, for temporary credentials, their
session token), as AWS requires. moto's server checks no signature at all, so any made-up signature read
secrets; here the request gets the service's own error instead:

- no signature: ``MissingAuthenticationToken`` (query), ``MissingAuthenticationTokenException`` (JSON),
  ``AccessDenied`` (S3);
- an unknown key or a wrong session token: ``InvalidClientTokenId`` / ``UnrecognizedClientException`` /
  ``InvalidAccessKeyId``;
- a wrong signature: ``SignatureDoesNotMatch`` / ``InvalidSignatureException``; for S3 also a body whose
  SHA-256 is not the ``x-amz-content-sha256`` signed (``XAmzContentSHA256Mismatch``).

Known keys: the local default ``testing`` (moto's default caller), moto STS credentials (assumed roles:
the Lambda workers' and ``AssumeRole`` callers') and active IAM user access keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from emulator.core import sigv4, state

# The local default credentials (tasks/aws.py EMULATOR_CREDENTIALS): moto's default caller.
DEFAULT_ACCESS_KEYS = {"testing": "testing"}
_UNSIGNED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-")

_INVALID_TOKEN = "The security token included in the request is invalid."
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class Caller:
    """A known access key: its secret, its session token (temporary credentials) and who it is."""

    secret: str
    token: str | None
    identity: dict[str, str]


def _partition(region: str) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(region))


def account_for(access_key: str) -> str:
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key)) if access_key else state.ACCOUNT_ID


def known_access_key(account_id: str, region: str, access_key: str) -> Caller | None:
    """The caller behind a known access key, or None."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key in DEFAULT_ACCESS_KEYS:
        arn = f"arn:{_partition(region)}:iam::{account_id}:user/moto"
        ident = {"accountId": account_id, "userArn": arn, "userId": "AIDAMOTO", "callerId": "AIDAMOTO"}
        return Caller(DEFAULT_ACCESS_KEYS[access_key], None, ident)
    assumed = sts_backends[account_id]["global"].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        ident = {
            "accountId": str(assumed.account_id),
            "userArn": str(assumed.arn),
            "userId": str(assumed.user_id),
            "callerId": str(assumed.user_id),
        }
        return Caller(str(assumed.secret_access_key), str(assumed.session_token), ident)
    iam = iam_backends[account_id][_partition(region)]
    for user in iam.users.values():
        for key in user.access_keys:
            if key.access_key_id == access_key and key.status == "Active":
                ident = {"accountId": account_id, "userArn": user.arn, "userId": user.id, "callerId": user.id}
                return Caller(str(key.secret_access_key), None, ident)
    return None


def signer(
    environ: dict[str, Any], body: bytes, signed: sigv4.Signed, region: str, *, s3: bool = False
) -> Caller | None:
    """The known caller whose secret (and session token) make ``signed`` valid, or None."""
    found = known_access_key(account_for(signed.access_key), region, signed.access_key)
    if found is None or (found.token is not None and signed.token != found.token):
        return None
    return found if sigv4.valid(environ, body, signed, found.secret, s3=s3) else None


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    status: int


def _codes(protocol: str) -> tuple[str, str, str, int]:
    """(missing, unknown key, bad signature, unknown key's status) in the protocol's words."""
    if protocol == "rest-xml":
        return "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", 403
    if protocol in ("query", "ec2"):
        return "MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch", 403
    return (
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        400,
    )


def check(environ: dict[str, Any], body: bytes, protocol: str, s3: bool) -> Refusal | None:
    """Why AWS would refuse this request's authentication, or None when it holds."""
    missing, unknown, bad, unknown_status = _codes(protocol)
    signed = sigv4.parse(environ)
    if signed is None:
        message = "Access Denied" if protocol == "rest-xml" else "Request is missing Authentication Token"
        return Refusal(missing, message, 403)
    found = known_access_key(account_for(signed.access_key), signed.region, signed.access_key)
    if found is None or (found.token is not None and signed.token != found.token):
        if protocol == "rest-xml":
            return Refusal(unknown, "The AWS Access Key Id you provided does not exist in our records.", 403)
        return Refusal(unknown, _INVALID_TOKEN, unknown_status)
    if not sigv4.valid(environ, body, signed, found.secret, s3=s3):
        return Refusal(bad, _BAD_SIGNATURE, 403)
    declared = str(environ.get("HTTP_X_AMZ_CONTENT_SHA256", ""))
    unsigned = not declared or declared.startswith(_UNSIGNED_PAYLOADS)
    if s3 and not unsigned and hashlib.sha256(body).hexdigest() != declared:
        return Refusal(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )
    return None
