"""The code the deployed function runs stays in the artifacts bucket for as long as a rollback may need it.

An update that changes the ingest code gives the function a new `Code.S3Key`. When the update fails,
CloudFormation sets the function back to the deployed key and reads that object again; if it is gone the
rollback fails and the stack ends UPDATE_ROLLBACK_FAILED (aws-facts.md, "Rollbacks re-read old
artifacts"). The bucket's lifecycle never expires a current zip (artifacts_bucket.py), so a key is only
gone when someone removed it. Before the stack step updates anything, this step checks the deployed key
(the stack's `IngestCodeKey` parameter) and, when it is missing, puts it back from its newest version (the
bucket is versioned: a deleted or expired object leaves one). The new key is deploy:ingest_code's, uploaded
from the local build when absent. When the deployed key cannot be put back, deploy says so before the stack
update, with what a failed update would then need and how to put the zip back (`gone_note`). After an
update completed, the key it moved away from is retired (`retire`): deleted, so it becomes a noncurrent
version the bucket's rule removes 30 days later.

Reads: none on a converged deploy (the deployed key is the current zip's, which deploy:ingest_code reads,
and the stack's DescribeStacks is shared with the stack step); one HeadObject of the deployed key when the
code changes; ListObjectVersions only when that key is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome
from tasks.steps import ingest_code
from tasks.steps.stack_events import described

NAME = "rollback_code"
PARAMETER = "IngestCodeKey"  # the stack's parameter: the function's Code.S3Key
NONCURRENT_DAYS = 30  # artifacts_bucket.EXPIRY_DAYS: how long a retired key stays restorable
# A stack in these has no deployed key to keep (none yet, or it is about to be deleted and re-created).
NO_CODE = ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS", "DELETE_COMPLETE")


@dataclass(frozen=True)
class Desired:
    bucket: str
    new_key: str  # this deploy's zip (deploy:ingest_code)
    account_id: str


@dataclass(frozen=True)
class Observed:
    deployed_key: str | None  # None: no stack yet, or one without the function
    present: bool = True
    version_id: str | None = None  # the newest version to restore a missing key from
    function: str = ""  # the deployed function's name (the stack's output), for the advice


def desired(ctx: Context) -> Desired:
    art = ingest_code.artifact(ctx)
    return Desired(art.bucket, art.key, art.account_id)


def observe(ctx: Context) -> Observed:
    stack = described(ctx)
    if stack is None or stack["StackStatus"] in NO_CODE:
        return Observed(None)
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    function = str(outputs.get("IngestFunctionName") or ctx.config.ingest_function_name)
    deployed = params.get(PARAMETER) or None
    want = desired(ctx)
    if deployed is None or deployed == want.new_key:  # the current zip: deploy:ingest_code's to keep
        return Observed(deployed, function=function)
    if _head(ctx, want, deployed):
        return Observed(deployed, function=function)
    return Observed(deployed, False, newest_version(ctx, want, deployed), function)


def _head(ctx: Context, want: Desired, key: str) -> bool:
    try:
        ctx.clients.s3.head_object(Bucket=want.bucket, Key=key, ExpectedBucketOwner=want.account_id)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            return False
        raise
    return True


def newest_version(ctx: Context, want: Desired, key: str) -> str | None:
    """The newest version of exactly `key` that holds data (delete markers hold none), or None."""
    try:
        listed = ctx.clients.s3.list_object_versions(
            Bucket=want.bucket, Prefix=key, ExpectedBucketOwner=want.account_id
        )
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return None
        raise
    versions = [v for v in listed.get("Versions", []) if v.get("Key") == key]
    versions.sort(key=lambda v: v["LastModified"], reverse=True)
    return str(versions[0]["VersionId"]) if versions else None


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    if have.present or have.deployed_key is None:
        return Diff([])
    if have.version_id is None:  # nothing to put it back from: said before the update, which goes on
        return Diff([], [gone_note(want, have)])
    res = f"s3 object s3://{want.bucket}/{have.deployed_key}"
    why = "the deployed code, which a failed update rolls back to, is missing: restored from its version"
    return Diff([Change("create", res, {"VersionId": (None, have.version_id)}, reason=why)])


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want, have = d.desired, d.observed
    key = str(have.deployed_key)
    source = {"Bucket": want.bucket, "Key": key, "VersionId": have.version_id}
    ctx.clients.s3.copy_object(
        Bucket=want.bucket, Key=key, CopySource=source, ExpectedBucketOwner=want.account_id
    )
    return Outcome("created", [f"restored s3://{want.bucket}/{key} from version {have.version_id}"])


def gone_note(want: Desired, have: Observed) -> str:
    """What a missing deployed key means for the coming update, and the two ways out. Deploy goes on: a
    failed rollback loses no data and has its own way out, while refusing could block every upgrade for good
    (after a rollback that skipped the function, no copy of that key may exist anywhere)."""
    url = f"s3://{want.bucket}/{have.deployed_key}"
    return (
        f"the deployed code {url} is gone and no version of it is left: if the stack update fails, its "
        "rollback cannot set the function back and the stack ends UPDATE_ROLLBACK_FAILED (deploy then says "
        "how to finish it). To avoid that, put the zip back at that key before deploying: the function may "
        f"still run it (`aws lambda get-function --function-name {have.function} --query Code.Location "
        f"--output text` prints a download URL; then `aws s3 cp ZIP {url}`), or build it with the version "
        "of this tool that deployed it (`doit package` writes it under build/ENV/)"
    )


def retire(ctx: Context, before: dict[str, str], after: dict[str, str]) -> list[str]:
    """After an update completed: delete the key it moved away from (a noncurrent version from then on,
    restorable for 30 days). Only the update's own previous key, never the deployed one. A failure here
    leaves an extra zip in the bucket, nothing worse, so it is reported, not raised."""
    old, new = before.get(PARAMETER), after.get(PARAMETER)
    if not old or old == new:
        return []
    bucket, account = ctx.config.artifacts_bucket_name(ctx.account_id), ctx.account_id
    try:
        ctx.clients.s3.delete_object(Bucket=bucket, Key=old, ExpectedBucketOwner=account)
    except ClientError as exc:
        return [f"note: could not retire s3://{bucket}/{old} ({error_code(exc)}): it stays in the bucket"]
    return [f"retired s3://{bucket}/{old} (restorable from its version for {NONCURRENT_DAYS} days)"]


def report(have: Observed) -> list[tuple[str, str]]:
    if have.deployed_key is None:
        return [("deployed code", "none (no stack with the function yet)")]
    if have.present:
        return [("deployed code", f"{have.deployed_key} in the artifacts bucket")]
    if have.version_id is not None:
        return [("deployed code", f"{have.deployed_key} missing (restorable from version {have.version_id})")]
    return [("deployed code", f"{have.deployed_key} missing, no version left (see the note)")]
