"""A stack's events as DescribeStackEvents pages them (newest first, with NextToken), and the waits on them.

While a stack operation runs its events are printed as they come (``wait_stack``); a failed one is told by
its first failed resource (``failure_message``).

AWS pages the events (100 a page, as public reports measured), so a stack operation with many resources
puts its first failure beyond the first page. ``since`` follows the pages back to the start of the
latest operation, and no further: a long stack history costs nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import StepFailed, error_code
from tasks.polling import poll, resource_delays
from tasks.step import Context

STACK_DEADLINE_S = 45 * 60
FAILED_RESOURCE = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED", "IMPORT_FAILED")

# The stack's own status at the start of an operation (later *_IN_PROGRESS ones, like ROLLBACK_IN_PROGRESS
# or UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, come in the middle of one).
MEMO = "stack:describe"
OPERATION_START = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS")


def page(ctx: Context, stack_id: str, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One DescribeStackEvents page (newest first) and its NextToken; no events for a missing stack."""
    kwargs = {"StackName": stack_id, **({"NextToken": token} if token else {})}
    try:
        resp = ctx.clients.cloudformation.describe_stack_events(**kwargs)
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            return [], None
        raise
    return list(resp["StackEvents"]), resp.get("NextToken")


def operation_start(event: dict[str, Any]) -> bool:
    """The stack's own first event of a create, update, delete or import."""
    return event.get("PhysicalResourceId") == event.get("StackId") and event.get("ResourceStatus") in (
        OPERATION_START
    )


def since(ctx: Context, stack_id: str, prior: set[str]) -> list[dict[str, Any]]:
    """The latest operation's events not in ``prior``, newest first, following every page.

    Paging stops at an event seen before (``prior``) or at the operation's own first event: usually one call.
    """
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        events, token = page(ctx, stack_id, token)
        for event in events:
            if event["EventId"] in prior:
                return out
            out.append(event)
            if operation_start(event):
                return out
        if not token:
            return out


def describe(ctx: Context, stack: str) -> dict[str, Any] | None:
    """DescribeStacks of one stack, None when missing: the status ``wait_stack`` reads and observe too."""
    try:
        stacks = ctx.clients.cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        # DescribeStacks answers a missing stack with the generic ValidationError code.
        if error_code(exc) == "ValidationError":
            return None
        raise
    return stacks[0] if stacks else None


def described(ctx: Context) -> dict[str, Any] | None:
    """The env's stack as the run first read it: one DescribeStacks shared by the steps that look at it
    before the stack step changes anything (deploy:rollback_code, the stack step's observe)."""
    name = ctx.config.stack_name
    stack: dict[str, Any] | None = ctx.memo(f"{MEMO}:{name}", lambda: describe(ctx, name))
    return stack


def forget_described(ctx: Context) -> None:
    """The stack changed (or was waited for): the next ``described`` reads it again."""
    ctx.forget(f"{MEMO}:{ctx.config.stack_name}")


def events_page(ctx: Context, stack_id: str) -> list[dict[str, Any]]:
    """The newest page of events: enough to tell later events from these."""
    return page(ctx, stack_id, None)[0]


def wait_stack(
    ctx: Context, stack_id: str, prior: set[str], *, read_now: bool = True
) -> tuple[str, dict[str, Any] | None]:
    """Poll events (printing new ones) and the stack status with backoff, until a terminal status.

    botocore's stack waiters can only block; they cannot show the events as they happen, which is what
    a user watching a 10-minute create needs, so this polls DescribeStackEvents + DescribeStacks itself.
    read_now=False waits the first delay first: right after ExecuteChangeSet the stack is in progress.
    """
    own: list[str] = []  # the newest status in the stack's own events, once one is seen

    def read() -> tuple[str, dict[str, Any] | None]:
        for event in reversed(since(ctx, stack_id, prior)):
            prior.add(event["EventId"])
            reason = f" {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            ctx.say(
                f"  stack: {event.get('LogicalResourceId')} {event.get('ResourceType')} "
                f"{event.get('ResourceStatus')}{reason}"
            )
            if event.get("PhysicalResourceId") == event.get("StackId"):
                own[:] = [str(event.get("ResourceStatus", ""))]
        # The stack's own newest event carries its status: DescribeStacks (for the outputs) only once
        # that event says the operation ended, so each poll is one call, not two.
        if own and own[0].endswith("_IN_PROGRESS"):
            return own[0], None
        stack = describe(ctx, stack_id)
        return (stack["StackStatus"] if stack else "DELETE_COMPLETE"), stack

    return poll(
        read,
        lambda got: not got[0].endswith("_IN_PROGRESS"),
        resource_delays(STACK_DEADLINE_S, local=ctx.config.is_local, read_now=read_now),
        lambda got: StepFailed(
            f"error: stack {stack_id} still {got[0]} after {STACK_DEADLINE_S // 60} minutes"
        ),
        read_now=read_now,
    )


def failure_message(ctx: Context, stack_name: str, status: str, stack_id: str, prior: set[str]) -> str:
    events = list(reversed(since(ctx, stack_id, prior)))
    failed = [
        e
        for e in events
        if e.get("ResourceStatus") in FAILED_RESOURCE and e.get("LogicalResourceId") != stack_name
    ]
    if failed:
        first = failed[0]
        return (
            f"error: stack {stack_name} ended {status}: resource {first.get('LogicalResourceId')} "
            f"({first.get('ResourceType')}) {first.get('ResourceStatus')}: "
            f"{first.get('ResourceStatusReason', 'no reason given')}"
        )
    return f"error: stack {stack_name} ended {status}"


def delete_stack(ctx: Context, stack_id: str) -> str:
    """DeleteStack and wait; returns the final status (DELETE_COMPLETE or DELETE_FAILED)."""
    prior = {e["EventId"] for e in events_page(ctx, stack_id)}
    ctx.clients.cloudformation.delete_stack(StackName=stack_id)
    status, _ = wait_stack(ctx, stack_id, prior)
    return status


def failed_resources(ctx: Context, stack_id: str) -> list[dict[str, Any]]:
    """Resources whose latest event is a *_FAILED status (e.g. a table bucket that still has tables)."""
    latest: dict[str, dict[str, Any]] = {}
    for event in reversed(since(ctx, stack_id, set())):
        latest[str(event.get("LogicalResourceId"))] = event
    return [e for e in latest.values() if e.get("ResourceStatus") in FAILED_RESOURCE]
