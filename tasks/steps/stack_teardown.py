"""The stack step's teardown (destroy): its buckets' objects, the stack, then what it keeps.

The error bucket and the Athena results bucket are emptied first (every version: CloudFormation cannot
delete a bucket holding objects).
The stack keeps the table bucket and its namespace (DeletionPolicy), so once it is gone every table of the
bucket (kept tables and tables someone added included: the tables were never the stack's), the namespaces
and the bucket go through the S3 Tables API. A stack deployed while stacks held the tables cannot delete
its non-empty bucket: then its tables and namespaces go first and the stack delete is retried.

destroy runs this after the streams and the grants (tasks/destroy.py reads the deploy graph in reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import StepFailed, error_code
from tasks.facts import ROLE_OUTPUT
from tasks.step import Context, Teardown
from tasks.steps import stack_events
from tasks.steps.stack_state import outputs_of

INGEST_OUTPUT = "IngestFunctionName"
RETENTION_OUTPUT = "RetentionFunctionName"
TABLE_BUCKET_TYPES = ("AWS::S3Tables::TableBucket", "AWS::S3Tables::Namespace", "AWS::S3Tables::Table")
STACK_MEMO = "teardown:stack"
BUCKET_MEMO = "teardown:bucket"


@dataclass(frozen=True)
class BucketContents:
    tables: tuple[tuple[str, str], ...]  # (namespace, table)
    namespaces: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    """What of the stack exists: the stack itself, the table bucket it kept, the error bucket and the Athena
    results bucket (templates/athena.yaml.j2)."""

    stack_id: str | None = None
    stack_status: str | None = None
    ingest_function: str | None = None  # the stack's function: it, its URL and its secret go with the stack
    retention_function: str | None = None  # the retention function and its schedule go with the stack
    bucket_arn: str | None = None
    contents: BucketContents = field(default_factory=lambda: BucketContents((), ()))
    error_bucket: str | None = None
    error_objects: int = 0
    results_bucket: str | None = None
    results_objects: int = 0

    @property
    def object_buckets(self) -> list[str]:
        """The stack's buckets of objects, emptied before the stack's delete."""
        return [b for b in (self.error_bucket, self.results_bucket) if b]


def described(ctx: Context) -> dict[str, Any] | None:
    """The env's stack (DescribeStacks, once per destroy), or None when there is none."""

    def read() -> dict[str, Any] | None:
        desc = stack_events.describe(ctx, ctx.config.stack_name)
        return desc if desc is not None and desc["StackStatus"] != "DELETE_COMPLETE" else None

    found: dict[str, Any] | None = ctx.memo(STACK_MEMO, read)
    return found


def role_arn(ctx: Context) -> str | None:
    """The stack's Firehose role (its output), for the grants' teardown."""
    desc = described(ctx)
    return outputs_of(desc).get(ROLE_OUTPUT) if desc is not None else None


def bucket_arn(ctx: Context) -> str:
    return ctx.config.table_bucket_arn(ctx.account_id)


def read_contents(ctx: Context, arn: str) -> BucketContents | None:
    """Every namespace and table of the table bucket (paged), or None when the bucket does not exist."""
    s3t = ctx.clients.s3tables
    try:
        namespaces: list[str] = []
        kwargs: dict[str, Any] = {"tableBucketARN": arn}
        while True:
            page = s3t.list_namespaces(**kwargs)
            namespaces += [n["namespace"][0] for n in page.get("namespaces", [])]
            if not page.get("continuationToken"):
                break
            kwargs["continuationToken"] = page["continuationToken"]
        found: list[tuple[str, str]] = []
        kwargs = {"tableBucketARN": arn}
        while True:
            page = s3t.list_tables(**kwargs)
            found += [(t["namespace"][0], t["name"]) for t in page.get("tables", [])]
            if not page.get("continuationToken"):
                break
            kwargs["continuationToken"] = page["continuationToken"]
    except ClientError as exc:
        if error_code(exc) in ("NotFoundException", "NoSuchBucket"):
            return None
        raise
    return BucketContents(tuple(found), tuple(namespaces))


def bucket_contents(ctx: Context) -> BucketContents | None:
    """read_contents of the env's table bucket, once per destroy's reading."""
    found: BucketContents | None = ctx.memo(BUCKET_MEMO, lambda: read_contents(ctx, bucket_arn(ctx)))
    return found


def error_versions(ctx: Context, bucket: str) -> list[dict[str, str]] | None:
    """Every object version and delete marker of a bucket, or None when it does not exist."""
    s3 = ctx.clients.s3
    out: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket}
    try:
        while True:
            page = s3.list_object_versions(**kwargs)
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                out.append({"Key": v["Key"], "VersionId": v["VersionId"]})
            if not page.get("IsTruncated"):
                return out
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")
    except ClientError as exc:
        if error_code(exc) in ("NoSuchBucket", "404"):
            return None
        raise


def find(ctx: Context) -> Found | None:
    desc = described(ctx)
    outputs = outputs_of(desc) if desc is not None else {}
    contents = bucket_contents(ctx)
    bucket = ctx.config.error_bucket_name(ctx.account_id)
    versions = error_versions(ctx, bucket)
    results = ctx.config.athena_results_bucket_name(ctx.account_id)
    results_versions = error_versions(ctx, results)
    found = Found(
        stack_id=desc["StackId"] if desc is not None else None,
        stack_status=desc["StackStatus"] if desc is not None else None,
        ingest_function=outputs.get(INGEST_OUTPUT),
        retention_function=outputs.get(RETENTION_OUTPUT),
        bucket_arn=bucket_arn(ctx) if contents is not None else None,
        contents=contents or BucketContents((), ()),
        error_bucket=bucket if versions is not None else None,
        error_objects=len(versions or ()),
        results_bucket=results if results_versions is not None else None,
        results_objects=len(results_versions or ()),
    )
    return found if (found.stack_id or found.bucket_arn or found.object_buckets) else None


def lines(found: Found) -> list[str]:
    out = []
    if found.error_bucket:
        out.append(f"error bucket {found.error_bucket} with {found.error_objects} object version(s)")
    if found.results_bucket:
        out.append(
            f"Athena results bucket {found.results_bucket} with {found.results_objects} object version(s)"
        )
    if found.stack_id:
        name = found.stack_id.split("/")[1] if "/" in found.stack_id else found.stack_id
        out.append(
            f"stack {name} ({found.stack_status})"
            + (
                f", with the ingest function {found.ingest_function}, its Function URL and token secret"
                if found.ingest_function
                else ""
            )
            + (
                f", with the retention function {found.retention_function} and its daily schedule"
                if found.retention_function
                else ""
            )
        )
    if found.bucket_arn:
        tbl = ", ".join(f"{ns}.{t}" for ns, t in found.contents.tables) or "no tables"
        out.append(
            f"table bucket {found.bucket_arn.rsplit('/', 1)[-1]} with every table and its data ({tbl}), "
            "through the S3 Tables API"
        )
    return out


def delete_tables(ctx: Context, arn: str) -> None:
    """Every table, then every namespace, of the table bucket (what is already gone is skipped)."""
    found = read_contents(ctx, arn)
    if found is None:
        return
    s3t = ctx.clients.s3tables
    for ns, name in found.tables:
        try:
            s3t.delete_table(tableBucketARN=arn, namespace=ns, name=name)
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise
    for ns in found.namespaces:
        try:
            s3t.delete_namespace(tableBucketARN=arn, namespace=ns)
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise


def empty_bucket(ctx: Context, bucket: str) -> int:
    """Delete every object version of `bucket`, 1,000 a call; returns how many there were."""
    versions = error_versions(ctx, bucket) or []
    for i in range(0, len(versions), 1000):
        resp = ctx.clients.s3.delete_objects(
            Bucket=bucket, Delete={"Objects": versions[i : i + 1000], "Quiet": True}
        )
        if resp.get("Errors"):
            err = resp["Errors"][0]
            raise StepFailed(
                f"error: emptying {bucket}: {err.get('Code')}: {err.get('Message')} ({err.get('Key')})"
            )
    return len(versions)


def delete(ctx: Context, found: Found) -> None:
    if found.error_bucket:
        n = empty_bucket(ctx, found.error_bucket)
        ctx.say(f"emptied error bucket {found.error_bucket} ({n} object version(s))")
    if found.results_bucket:
        n = empty_bucket(ctx, found.results_bucket)
        ctx.say(f"emptied Athena results bucket {found.results_bucket} ({n} object version(s))")
    if found.stack_id:
        status = stack_events.delete_stack(ctx, found.stack_id)
        if status == "DELETE_FAILED":
            failed = stack_events.failed_resources(ctx, found.stack_id)
            if found.bucket_arn and any(e.get("ResourceType") in TABLE_BUCKET_TYPES for e in failed):
                ctx.say(
                    "stack could not delete the table bucket: deleting its tables and namespaces through "
                    "the S3 Tables API, then deleting the stack again"
                )
                delete_tables(ctx, found.bucket_arn)
                for bucket in found.object_buckets:
                    empty_bucket(ctx, bucket)
                status = stack_events.delete_stack(ctx, found.stack_id)
        if status != "DELETE_COMPLETE":
            raise StepFailed(
                stack_events.failure_message(ctx, ctx.config.stack_name, status, found.stack_id, set())
            )
        ctx.say(f"deleted stack {ctx.config.stack_name}")
    # Leftovers CloudFormation did not own (or a stack deleted by hand): remove them directly.
    if found.bucket_arn and read_contents(ctx, found.bucket_arn) is not None:
        delete_tables(ctx, found.bucket_arn)
        ctx.clients.s3tables.delete_table_bucket(tableBucketARN=found.bucket_arn)
        ctx.say(f"deleted table bucket {found.bucket_arn}")
    for bucket in found.object_buckets:
        if error_versions(ctx, bucket) is not None:
            empty_bucket(ctx, bucket)
            ctx.clients.s3.delete_bucket(Bucket=bucket)
            ctx.say(f"deleted bucket {bucket}")


TEARDOWN: Teardown[Found] = Teardown(find, lines, delete)
