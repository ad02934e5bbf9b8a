"""`doit destroy env=ENV force=1`: delete everything of one env, keep the account-level setup.

Order: the streams (they write into the tables and use the stack's role) until gone, the Firehose role's
Lake Formation grants, the objects (every version) of the error bucket and of the Athena results bucket,
then the stack, which keeps the table bucket and its namespace (DeletionPolicy), then every table (kept
ones included), the namespaces and the table bucket through the S3 Tables API: the tables were never the
stack's. A stack deployed while stacks held the tables cannot delete its non-empty bucket: its tables and
namespaces go through the S3 Tables API and the stack delete is retried. The LF role, admins,
registration, catalog and catalog grant stay: other envs of the account use them. The env's receiver
running here (`doit ingest`) is stopped once the delete is confirmed: without its streams it could only
answer 503.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks import receiver_ctl
from tasks.errors import StepFailed, UserError, emit, error_code
from tasks.step import Context
from tasks.steps import lf_permissions, stack, stack_events, streams, tables
from tasks.steps.grants import ROLE_OUTPUT, child_catalog_id

KEPT = (
    "IAM role S3TablesRoleForLakeFormation, Lake Formation admins and resource registration, "
    "Glue catalog s3tablescatalog and its grant (account-level, shared by every env)"
)
INGEST_OUTPUT = "IngestFunctionName"


def kept(ctx: Context) -> str:
    """What destroy leaves: the account-level setup and the artifacts bucket (every env's ingest zips)."""
    bucket = ctx.config.artifacts_bucket_name(ctx.account_id)
    return f"{KEPT}; artifacts bucket {bucket} (the ingest zips of every env of the account and region)"


TABLE_BUCKET_TYPES = ("AWS::S3Tables::TableBucket", "AWS::S3Tables::Namespace", "AWS::S3Tables::Table")


@dataclass
class Inventory:
    streams: list[str] = field(default_factory=list)
    stack_id: str | None = None
    stack_status: str | None = None
    role_arn: str | None = None
    bucket_arn: str | None = None
    tables: list[tuple[str, str]] = field(default_factory=list)  # (namespace, table)
    namespaces: list[str] = field(default_factory=list)
    error_bucket: str | None = None
    error_objects: int = 0
    results_bucket: str | None = None  # the Athena workgroup's query results (templates/athena.yaml.j2)
    results_objects: int = 0
    grants: list[dict[str, Any]] = field(default_factory=list)
    ingest_function: str | None = None  # the stack's function: it, its URL and its secret go with the stack

    @property
    def empty(self) -> bool:
        return not (
            self.streams
            or self.stack_id
            or self.bucket_arn
            or self.error_bucket
            or self.results_bucket
            or self.grants
        )

    @property
    def object_buckets(self) -> list[str]:
        """The stack's buckets of objects, emptied before the stack's delete (CloudFormation deletes no
        bucket with objects in it)."""
        return [b for b in (self.error_bucket, self.results_bucket) if b]

    def lines(self) -> list[str]:
        out = [f"firehose stream {n}" for n in self.streams]
        if self.grants:
            out.append(f"{len(self.grants)} Lake Formation grant(s) to {self.role_arn}")
        if self.error_bucket:
            out.append(f"error bucket {self.error_bucket} with {self.error_objects} object version(s)")
        if self.results_bucket:
            out.append(
                f"Athena results bucket {self.results_bucket} with {self.results_objects} object version(s)"
            )
        if self.stack_id:
            out.append(
                f"stack {self.stack_id.split('/')[1] if '/' in self.stack_id else self.stack_id} "
                f"({self.stack_status})"
                + (
                    f", with the ingest function {self.ingest_function}, its Function URL and token secret"
                    if self.ingest_function
                    else ""
                )
            )
        if self.bucket_arn:
            tbl = ", ".join(f"{ns}.{t}" for ns, t in self.tables) or "no tables"
            out.append(
                f"table bucket {self.bucket_arn.rsplit('/', 1)[-1]} with every table and its data ({tbl}), "
                "through the S3 Tables API"
            )
        return out


def _bucket_tables(ctx: Context, arn: str) -> tuple[list[tuple[str, str]], list[str]] | None:
    s3t = ctx.clients.s3tables
    try:
        namespaces = []
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
    return found, namespaces


def _error_versions(ctx: Context, bucket: str) -> list[dict[str, str]] | None:
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


def inventory(ctx: Context) -> Inventory:
    cfg = ctx.config
    inv = Inventory(streams=streams.env_stream_names(ctx))
    desc = stack_events.describe(ctx, cfg.stack_name)
    if desc is not None and desc["StackStatus"] != "DELETE_COMPLETE":
        inv.stack_id, inv.stack_status = desc["StackId"], desc["StackStatus"]
        inv.role_arn = stack.outputs_of(desc).get(ROLE_OUTPUT)
        inv.ingest_function = stack.outputs_of(desc).get(INGEST_OUTPUT)
    arn = tables.bucket_arn(ctx)
    found = _bucket_tables(ctx, arn)
    if found is not None:
        inv.bucket_arn = arn
        inv.tables, inv.namespaces = found
    bucket = cfg.error_bucket_name(ctx.account_id)
    versions = _error_versions(ctx, bucket)
    if versions is not None:
        inv.error_bucket, inv.error_objects = bucket, len(versions)
    results = cfg.athena_results_bucket_name(ctx.account_id)
    versions = _error_versions(ctx, results)
    if versions is not None:
        inv.results_bucket, inv.results_objects = results, len(versions)
    if inv.role_arn:
        inv.grants = _role_grants(ctx, inv.role_arn, inv)
    return inv


def _role_grants(ctx: Context, role: str, inv: Inventory) -> list[dict[str, Any]]:
    """The role's grants on every namespace and table of the bucket (tasks/steps/lf_permissions.py)."""
    catalog = child_catalog_id(ctx.account_id, ctx.config.table_bucket_name)
    resources = [{"Database": {"CatalogId": catalog, "Name": ns}} for ns in inv.namespaces]
    resources += [{"Table": {"CatalogId": catalog, "DatabaseName": ns, "Name": t}} for ns, t in inv.tables]
    return lf_permissions.entries_of(ctx, role, resources)


def confirm(ctx: Context, inv: Inventory, force: bool) -> None:
    """force=1, or a yes typed on a terminal; without a terminal nothing is deleted."""
    if force:
        return
    if not sys.stdin.isatty():
        raise UserError(
            f"error: destroy env={ctx.config.env} needs force=1 (no terminal to confirm on): "
            "nothing was deleted"
        )
    answer = input(f"type the env name ({ctx.config.env}) to delete all of the above: ").strip()
    if answer != ctx.config.env:
        raise UserError(
            f"error: confirmation {answer!r} does not match env {ctx.config.env!r}: nothing was deleted"
        )


def _delete_tables(ctx: Context, arn: str) -> None:
    found = _bucket_tables(ctx, arn)
    if found is None:
        return
    s3t = ctx.clients.s3tables
    found_tables, namespaces = found
    for ns, name in found_tables:
        try:
            s3t.delete_table(tableBucketARN=arn, namespace=ns, name=name)
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise
    for ns in namespaces:
        try:
            s3t.delete_namespace(tableBucketARN=arn, namespace=ns)
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise


def _empty_bucket(ctx: Context, bucket: str) -> int:
    versions = _error_versions(ctx, bucket) or []
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


def stop_receiver(ctx: Context) -> None:
    """The env's receiver (`doit ingest`) would answer 503 to every request once its streams are gone."""
    stopped = receiver_ctl.stop_env(ctx.config.env, ctx.config.endpoint)
    if stopped is not None:
        ctx.say(f"stopped the receiver for env {stopped.env} (pid {stopped.pid})")


def destroy(ctx: Context, force: bool) -> int:
    """Delete the env's resources. Every failure raises; tasks/errors.py's cli_action, the one place that
    turns exceptions into exit codes, gives the command's. Returns 0 (EXIT_OK): done or nothing to delete."""
    inv = inventory(ctx)
    if inv.empty:
        emit(f"destroy env={ctx.config.env}: nothing to delete; kept: {kept(ctx)}")
        stop_receiver(ctx)
        return 0
    emit(f"destroy env={ctx.config.env} deletes:")
    for line in inv.lines():
        emit(f"  - {line}")
    emit(f"  kept: {kept(ctx)}")
    confirm(ctx, inv, force)
    stop_receiver(ctx)

    if inv.streams:
        with ThreadPoolExecutor(max_workers=min(8, len(inv.streams))) as pool:
            for name, fut in [(n, pool.submit(streams.delete_stream, ctx, n)) for n in inv.streams]:
                fut.result()
                ctx.say(f"deleted firehose stream {name}")
    if inv.grants:
        entries = [
            {
                "Id": str(i),
                "Principal": g["Principal"],
                "Resource": g["Resource"],
                "Permissions": g.get("Permissions", []),
                "PermissionsWithGrantOption": g.get("PermissionsWithGrantOption", []),
            }
            for i, g in enumerate(inv.grants)
        ]
        for i in range(0, len(entries), 20):
            ctx.clients.lakeformation.batch_revoke_permissions(Entries=entries[i : i + 20])
        ctx.say(f"revoked {len(entries)} Lake Formation grant(s) of {inv.role_arn}")
    if inv.error_bucket:
        n = _empty_bucket(ctx, inv.error_bucket)
        ctx.say(f"emptied error bucket {inv.error_bucket} ({n} object version(s))")
    if inv.results_bucket:
        n = _empty_bucket(ctx, inv.results_bucket)
        ctx.say(f"emptied Athena results bucket {inv.results_bucket} ({n} object version(s))")
    if inv.stack_id:
        status = stack_events.delete_stack(ctx, inv.stack_id)
        if status == "DELETE_FAILED":
            failed = stack_events.failed_resources(ctx, inv.stack_id)
            if inv.bucket_arn and any(e.get("ResourceType") in TABLE_BUCKET_TYPES for e in failed):
                ctx.say(
                    "stack could not delete the table bucket: deleting its tables and namespaces through "
                    "the S3 Tables API, then deleting the stack again"
                )
                _delete_tables(ctx, inv.bucket_arn)
                for bucket in inv.object_buckets:
                    _empty_bucket(ctx, bucket)
                status = stack_events.delete_stack(ctx, inv.stack_id)
        if status != "DELETE_COMPLETE":
            raise StepFailed(
                stack_events.failure_message(ctx, ctx.config.stack_name, status, inv.stack_id, set())
            )
        ctx.say(f"deleted stack {ctx.config.stack_name}")
    # Leftovers CloudFormation did not own (or a stack deleted by hand): remove them directly.
    if inv.bucket_arn and _bucket_tables(ctx, inv.bucket_arn) is not None:
        _delete_tables(ctx, inv.bucket_arn)
        ctx.clients.s3tables.delete_table_bucket(tableBucketARN=inv.bucket_arn)
        ctx.say(f"deleted table bucket {inv.bucket_arn}")
    for bucket in inv.object_buckets:
        if _error_versions(ctx, bucket) is not None:
            _empty_bucket(ctx, bucket)
            ctx.clients.s3.delete_bucket(Bucket=bucket)
            ctx.say(f"deleted bucket {bucket}")
    emit(f"destroy env={ctx.config.env}: done; kept: {kept(ctx)}; {ctx.clients.counter.summary()}")
    return 0
