"""What `doit destroy` does for the readers step (tasks/destroy.py reads the deploy graph in reverse).

It revokes what a deploy with no readers would (readers.py: every recorded or configured reader's grants
from the tool, and the record of readers), before the Firehose role's grants and the stack go. The stack
then deletes the readers' managed policy, which IAM refuses while the policy is attached to anyone
(DeleteConflict): so the roles, users and groups it is attached to are listed before the confirmation and
detached from it first. That is the one change destroy makes to other people's principals: the policy it
names goes with the env, and nothing else of theirs is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context, Diff, Teardown
from tasks.steps import readers

_ENTITIES = (
    ("PolicyRoles", "RoleName", "role"),
    ("PolicyUsers", "UserName", "user"),
    ("PolicyGroups", "GroupName", "group"),
)


@dataclass(frozen=True)
class Found:
    revoke: Diff[readers.Desired, readers.Observed] | None
    policy_arn: str
    attached: tuple[tuple[str, str], ...]  # (kind, name): role, user or group the policy is attached to


def attached_to(ctx: Context, policy_arn: str) -> tuple[tuple[str, str], ...]:
    """The principals the readers' policy is attached to (ListEntitiesForPolicy, every page); none when
    the policy does not exist."""
    out: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"PolicyArn": policy_arn}
    try:
        while True:
            page = ctx.clients.iam.list_entities_for_policy(**kwargs)
            for key, name_key, kind in _ENTITIES:
                out += [(kind, e[name_key]) for e in page.get(key, [])]
            if not page.get("IsTruncated"):
                return tuple(sorted(out))
            kwargs["Marker"] = page["Marker"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return ()


def find(ctx: Context) -> Found | None:
    arn = ctx.config.readers_policy_arn(ctx.account_id)
    found = Found(readers.revoke_all(ctx), arn, attached_to(ctx, arn))
    return found if found.revoke is not None or found.attached else None


def lines(found: Found) -> list[str]:
    out = []
    if found.revoke is not None:
        todo = readers.work(found.revoke.desired, found.revoke.observed)
        who = sorted({r.principal for r in todo.revokes})
        out.append(
            f"{len(todo.revokes)} Lake Formation grant(s) to readers ({', '.join(who) or 'none held'}) "
            f"and the record of readers {found.revoke.desired.record_name}"
        )
    if found.attached:
        names = ", ".join(f"{kind} {name}" for kind, name in found.attached)
        out.append(f"readers policy {found.policy_arn}: detached from {names}, then deleted with the stack")
    return out


def delete(ctx: Context, found: Found) -> None:
    if found.revoke is not None:
        for detail in readers.apply(ctx, found.revoke).details:
            ctx.say(detail)
    iam = ctx.clients.iam
    for kind, name in found.attached:
        try:
            if kind == "role":
                iam.detach_role_policy(RoleName=name, PolicyArn=found.policy_arn)
            elif kind == "user":
                iam.detach_user_policy(UserName=name, PolicyArn=found.policy_arn)
            else:
                iam.detach_group_policy(GroupName=name, PolicyArn=found.policy_arn)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":  # detached (or deleted) meanwhile
                raise
        ctx.say(f"detached readers policy from {kind} {name}")


TEARDOWN: Teardown[Found] = Teardown(find, lines, delete)
