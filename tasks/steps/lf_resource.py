"""Account setup: S3 Tables registered with Lake Formation (with federation) using the LF role.

Registered as the S3 User Guide does: `WithFederation=True` and `WithPrivilegedAccess=True`. A registration
that uses another role, or lacks either flag, belongs to someone else's setup: it is reported as a note and
changed only with repair=1, because re-registering disturbs every user of the account. UpdateResource has no
`WithPrivilegedAccess` member (lakeformation model), so adding it means deregister + register.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.config import Config
from tasks.errors import error_code
from tasks.polling import retry_codes
from tasks.step import Change, Context, Diff, Outcome
from tasks.steps.lf_role import role_arn

NAME = "lf_resource"

# RegisterResource right after CreateRole can fail until IAM has propagated the role.
IAM_NOT_READY = ("InvalidInputException", "AccessDeniedException")


@dataclass(frozen=True)
class Desired:
    resource_arn: str
    role_arn: str
    repair: bool = False


@dataclass(frozen=True)
class Observed:
    registered: bool
    role_arn: str | None = None
    with_federation: bool | None = None
    with_privileged_access: bool | None = None


def resource_arn(config: Config, account_id: str) -> str:
    return config.table_buckets_arn(account_id)


def desired(ctx: Context) -> Desired:
    return Desired(resource_arn(ctx.config, ctx.account_id), role_arn(ctx.config, ctx.account_id), ctx.repair)


def observe(ctx: Context) -> Observed:
    arn = resource_arn(ctx.config, ctx.account_id)
    try:
        info: dict[str, Any] = ctx.clients.lakeformation.describe_resource(ResourceArn=arn)["ResourceInfo"]
    except ClientError as exc:
        if error_code(exc) == "EntityNotFoundException":
            return Observed(False)
        raise
    return Observed(True, info.get("RoleArn"), info.get("WithFederation"), info.get("WithPrivilegedAccess"))


def diff(want: Desired, have: Observed) -> Diff:
    res = f"lake formation resource {want.resource_arn}"
    if not have.registered:
        return Diff(
            [
                Change(
                    "create",
                    res,
                    {
                        "RoleArn": (None, want.role_arn),
                        "WithFederation": (None, True),
                        "WithPrivilegedAccess": (None, True),
                    },
                )
            ]
        )
    fields: dict[str, tuple[Any, Any]] = {}
    if have.role_arn != want.role_arn:
        fields["RoleArn"] = (have.role_arn, want.role_arn)
    # Older registrations (and some readers) omit WithFederation: only an explicit False is drift.
    if have.with_federation is False:
        fields["WithFederation"] = (False, True)
    # Absent is unknown, not false (aws-facts.md): only an explicit False is reported.
    if have.with_privileged_access is False:
        fields["WithPrivilegedAccess"] = (False, True)
    if not fields:
        return Diff()
    if want.repair:
        if "WithPrivilegedAccess" in fields:
            return Diff([Change("replace", res, fields, reason="repair=1: deregister, then register")])
        return Diff([Change("update", res, fields, reason="repair=1")])
    return Diff(
        notes=[
            f"{res} is registered with {have.role_arn} (WithFederation={have.with_federation}, "
            f"WithPrivilegedAccess={have.with_privileged_access}), not {want.role_arn} with both True; "
            "left alone, run with repair=1 to change it"
        ]
    )


def apply(ctx: Context, d: Diff) -> Outcome:
    want: Desired = d.desired
    lf = ctx.clients.lakeformation
    change = d.changes[0]
    if change.action == "create":

        def register() -> Any:
            return lf.register_resource(
                ResourceArn=want.resource_arn,
                RoleArn=want.role_arn,
                WithFederation=True,
                WithPrivilegedAccess=True,
            )

        if ctx.results.get("lf_role_created"):
            retry_codes(register, IAM_NOT_READY, deadline_s=60)
        else:
            register()
        return Outcome("created", [f"registered {want.resource_arn} with {want.role_arn}"])
    if change.action == "replace":
        lf.deregister_resource(ResourceArn=want.resource_arn)
        lf.register_resource(
            ResourceArn=want.resource_arn,
            RoleArn=want.role_arn,
            WithFederation=True,
            WithPrivilegedAccess=True,
        )
        return Outcome("replaced", [f"re-registered {want.resource_arn} with privileged access (repair=1)"])
    lf.update_resource(ResourceArn=want.resource_arn, RoleArn=want.role_arn, WithFederation=True)
    return Outcome("updated", [f"re-pointed {want.resource_arn} to {want.role_arn} (repair=1)"])


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.registered:
        return [("lake formation registration", "missing")]
    return [
        (
            "lake formation registration",
            f"role {have.role_arn}, WithFederation={have.with_federation}, "
            f"WithPrivilegedAccess={have.with_privileged_access}",
        )
    ]
