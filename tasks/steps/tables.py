"""Status-only check: the env's Iceberg tables exist in the table bucket's namespace.

The stack owns the tables; this check only reads (ListTables) so status can show them, and so drift
(a table deleted behind CloudFormation's back) is visible. deploy has nothing to apply here.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from tasks.errors import StepFailed, error_code
from tasks.step import Change, Context, Diff, Outcome

NAME = "tables"


@dataclass(frozen=True)
class Tables:
    bucket_arn: str
    names: tuple[str, ...] | None  # None: the bucket or namespace is missing


def bucket_arn(ctx: Context) -> str:
    return ctx.config.table_bucket_arn(ctx.account_id)


def desired(ctx: Context) -> Tables:
    return Tables(bucket_arn(ctx), tuple(ctx.config.signals))


def observe(ctx: Context) -> Tables:
    arn = bucket_arn(ctx)
    names: list[str] = []
    kwargs = {"tableBucketARN": arn, "namespace": ctx.config.namespace, "maxTables": 1000}
    try:
        while True:
            page = ctx.clients.s3tables.list_tables(**kwargs)
            names.extend(t["name"] for t in page.get("tables", []))
            token = page.get("continuationToken")
            if not token:
                break
            kwargs["continuationToken"] = token
    except ClientError as exc:
        if error_code(exc) in ("NotFoundException", "NoSuchBucket", "NoSuchNamespace"):
            return Tables(arn, None)
        raise
    return Tables(arn, tuple(sorted(names)))


def diff(want: Tables, have: Tables) -> Diff:
    assert want.names is not None
    present = set(have.names or ())
    return Diff(
        [
            Change("create", f"iceberg table {n}", reason="the stack creates it")
            for n in want.names
            if n not in present
        ]
    )


def apply(ctx: Context, d: Diff) -> Outcome:
    raise StepFailed("error: tables are owned by the stack; run `doit deploy`")


def report(have: Tables) -> list[tuple[str, str]]:
    if have.names is None:
        return [("tables", f"table bucket or namespace missing ({have.bucket_arn})")]
    return [("tables", ", ".join(have.names) or "none")]
