"""The retention function's role keeps the inline policy the template gives it (a retention window).

The function's calls are judged by this role's policy at every run: a statement removed out of band fails
the next run (the retention alarms fire), and CloudFormation does not repair what it did not change. The
same reading as the Firehose role's (tasks/steps/firehose_role.py): one iam:GetRolePolicy, compared with
the template's document, written back with PutRolePolicy when it differs.
"""

from __future__ import annotations

from tasks.step import Context, Diff, Outcome
from tasks.steps import firehose_role
from tasks.steps.firehose_role import Desired, Observed, RoleSpec

NAME = "retention_role"
SPEC = RoleSpec(
    "RetentionFunctionRole",
    "RetentionFunctionRoleName",
    (
        ("TableBucket.TableBucketARN", "TableBucketArn"),
        ("EnvKey.Arn", "EnvKeyArn"),
        ("RetentionDeadLetterQueue.Arn", "RetentionDeadLetterQueueArn"),
    ),
    "retention runs fail without it",
    "retention function role",
)


def desired(ctx: Context) -> Desired:
    return firehose_role.desired(ctx, SPEC)


def observe(ctx: Context) -> Observed:
    return firehose_role.observe(ctx, SPEC)


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    return firehose_role.diff(want, have, SPEC)


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    return firehose_role.apply(ctx, d)


def report(have: Observed) -> list[tuple[str, str]]:
    return firehose_role.report(have, SPEC)
