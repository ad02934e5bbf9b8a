"""A stack's events as DescribeStackEvents pages them: newest first, with NextToken.

AWS pages the events (100 a page, as public reports measured), so a stack operation with many resources
puts its first failure beyond the first page. ``since`` follows the pages back to the start of the
latest operation, and no further: a long stack history costs nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context

# The stack's own status at the start of an operation (later *_IN_PROGRESS ones, like ROLLBACK_IN_PROGRESS
# or UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, come in the middle of one).
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
