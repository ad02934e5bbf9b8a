"""The ingest function's zip in the artifacts bucket, at `ingest/ENV/SHA256.zip`.

The key is the zip's sha256, so one HeadObject tells whether this exact code is there: a converged
deploy makes that one read and no write, and a code change is a new key, which the stack receives as
its `IngestCodeKey` parameter (the function's `Code.S3Key`), so CloudFormation updates the function.
The zip is built (or found up to date) by tasks/package.py when `desired` first asks for it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome, Result

NAME = "ingest_code"


@dataclass(frozen=True)
class Desired:
    bucket: str
    key: str
    path: Path
    sha256: str
    account_id: str


@dataclass(frozen=True)
class Observed:
    present: bool
    sha256: str | None = None  # the object's own checksum, when S3 keeps one


def artifact(ctx: Context) -> Desired:
    """The env's zip (built when out of date; tasks/package.py locks the build) and where it goes."""
    from tasks import package

    art = package.ensure(ctx.config)
    acct = ctx.account_id
    return Desired(ctx.config.artifacts_bucket_name(acct), art.key(ctx.config), art.path, art.sha256, acct)


def desired(ctx: Context) -> Desired:
    return artifact(ctx)


def observe(ctx: Context) -> Observed:
    """One HeadObject per command, shared with deploy:artifacts_bucket (a present key means its bucket is)."""
    want = desired(ctx)
    result: Observed = ctx.memo(f"{NAME}:head:{want.key}", lambda: head(ctx, want))
    return result


def head(ctx: Context, want: Desired) -> Observed:
    """One HeadObject of the zip's key (its checksum when S3 keeps one)."""
    try:
        head = ctx.clients.s3.head_object(
            Bucket=want.bucket, Key=want.key, ExpectedBucketOwner=want.account_id, ChecksumMode="ENABLED"
        )
    except ClientError as exc:
        # HEAD has no body: a missing key (or a bucket not created yet) is the status code alone.
        if error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            return Observed(False)
        raise
    checksum = head.get("ChecksumSHA256")
    return Observed(True, base64.b64decode(checksum).hex() if checksum else None)


def diff(want: Desired, have: Observed) -> Diff:
    res = f"s3 object s3://{want.bucket}/{want.key}"
    if not have.present:
        return Diff([Change("create", res, {"sha256": (None, want.sha256)})])
    if have.sha256 is not None and have.sha256 != want.sha256:
        # A key is only ever written with its own content; anything else was put there by hand.
        return Diff([Change("update", res, {"sha256": (have.sha256, want.sha256)}, reason="content differs")])
    return Diff([])


def apply(ctx: Context, d: Diff) -> Outcome:
    want: Desired = d.desired
    body = want.path.read_bytes()
    digest = hashlib.sha256(body).digest()
    ctx.clients.s3.put_object(
        Bucket=want.bucket,
        Key=want.key,
        Body=body,
        ChecksumSHA256=base64.b64encode(digest).decode(),  # S3 refuses a body that does not match
        ExpectedBucketOwner=want.account_id,
        ContentType="application/zip",
    )
    verb: Result = "created" if d.changes[0].action == "create" else "updated"
    return Outcome(verb, [f"uploaded {want.path.name} ({len(body)} bytes) to s3://{want.bucket}/{want.key}"])


def report(have: Observed) -> list[tuple[str, str]]:
    return [("ingest zip", "uploaded" if have.present else "missing")]
