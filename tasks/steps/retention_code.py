"""The retention function's zip in the artifacts bucket, at `retention/ENV/SHA256.zip` (a retention window).

The same shape as deploy:ingest_code (the zip built by tasks/package.py's RETENTION bundle, one HeadObject,
the upload when absent), so a converged deploy makes that one read and no write, and a code change is a new
key: the stack's `RetentionCodeKey` parameter, the function's `Code.S3Key`. The tool never deletes one of
these keys, so a failed update always finds the code it rolls the function back to.
"""

from __future__ import annotations

from tasks.step import Context, Diff, Outcome
from tasks.steps import ingest_code
from tasks.steps.ingest_code import Desired, Observed

NAME = "retention_code"


def artifact(ctx: Context) -> Desired:
    """The env's retention zip (built when out of date) and where it goes."""
    from tasks import package

    art = package.ensure(ctx.config, package.RETENTION)
    acct = ctx.account_id
    key = ctx.config.retention_code_key(art.sha256)
    return Desired(ctx.config.artifacts_bucket_name(acct), key, art.path, art.sha256, acct)


def desired(ctx: Context) -> Desired:
    return artifact(ctx)


def observe(ctx: Context) -> Observed:
    want = desired(ctx)
    result: Observed = ctx.memo(f"{NAME}:head:{want.key}", lambda: ingest_code.head(ctx, want))
    return result


def diff(want: Desired, have: Observed) -> Diff:
    return ingest_code.diff(want, have)


def apply(ctx: Context, d: Diff) -> Outcome:
    return ingest_code.apply(ctx, d)


def report(have: Observed) -> list[tuple[str, str]]:
    return [("retention zip", "uploaded" if have.present else "missing")]
