"""The stack step's state (what the config asks for, what exists) and the change set that turns one into
the other: below stack.py and stack_move.py, which both read and run them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import WaiterError

from tasks import stack_diff
from tasks.errors import StepFailed
from tasks.step import Context
from tasks.steps import stack_recovery
from tasks.steps.stack_events import events_page, failure_message, wait_stack

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
# Statuses from which an update change set can be created.
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


@dataclass(frozen=True)
class Desired:
    stack_name: str
    body: str
    template: dict[str, Any]
    parameters: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class TakeBack:
    """The namespace the config names exists already outside the stack (a change of `namespace` back): the
    stack takes it in rather than create it (stack_namespace.py). Table counts from the bucket's listing."""

    namespace: str
    tables: int
    leaving: str  # the namespace the stack holds now ("" when it holds none)
    leaving_tables: int


@dataclass(frozen=True)
class Observed:
    exists: bool
    stack_id: str | None = None
    status: str | None = None
    reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] | None = None
    # No stack (or one whose create rolled back), and yet the env's table bucket exists: a stack deleted
    # out of band keeps it (DeletionPolicy), with its tables. The new stack imports it, and its namespace
    # when that exists too (stack_move.py), instead of failing on its name.
    kept_bucket: str | None = None
    kept_namespace: bool = False
    # Tables the deployed stack still holds (an env deployed before tables left the stack), with their
    # figures: (table name, "N rows, SIZE"). The next update moves them out, kept (stack_move.py).
    moving: tuple[tuple[str, str], ...] = ()
    # Only when the resources or parameter values differ: each type's create-only properties
    # (lake/cfn_schemas.py), and what each bucket the diff deletes or replaces holds.
    create_only: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    objects: dict[str, stack_diff.Contents] = field(default_factory=dict)
    # Only when the deployed template's namespace is not the wanted one, and the wanted one exists.
    taking_back: TakeBack | None = None


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}


def run_change_set(
    ctx: Context, want: Desired, kind: str, to_import: list[dict[str, Any]] | None = None
) -> dict[str, str] | None:
    """Create, wait for and execute a change set (CREATE, UPDATE, or IMPORT of `to_import`); None when
    CloudFormation reports no changes."""
    cfn = ctx.clients.cloudformation
    now = time.time()  # one reading: the seconds and the milliseconds of the same instant
    name = f"deploy-{time.strftime('%Y%m%d%H%M%S', time.localtime(now))}-{int(now * 1000) % 1000:03d}"
    extra = {"ResourcesToImport": to_import} if to_import else {}
    created = cfn.create_change_set(
        StackName=want.stack_name,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=want.body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(want.parameters.items())],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in want.tags.items()],
        Description=f"otlp2pipeline deploy env={ctx.config.env}",
        **extra,
    )
    cs_id, stack_id = created["Id"], created["StackId"]
    delay = 0.25 if ctx.config.is_local else 2
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=cs_id, StackName=stack_id, WaiterConfig={"Delay": delay, "MaxAttempts": 600}
        )
    except WaiterError:
        cs = cfn.describe_change_set(ChangeSetName=cs_id, StackName=stack_id)
        if empty_change_set(cs):
            cfn.delete_change_set(ChangeSetName=cs_id, StackName=stack_id)
            return None
        raise StepFailed(
            f"error: change set for stack {want.stack_name} failed: "
            f"{cs.get('Status')}: {cs.get('StatusReason', 'no reason given')}"
        ) from None
    prior = {e["EventId"] for e in events_page(ctx, stack_id)}
    cfn.execute_change_set(ChangeSetName=cs_id, StackName=stack_id)
    status, stack = wait_stack(ctx, stack_id, set(prior), read_now=False)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"):
        message = failure_message(ctx, want.stack_name, status, stack_id, prior)
        if status not in UPDATABLE:  # e.g. UPDATE_ROLLBACK_FAILED: say how to get it updatable again
            message += ". " + stack_recovery.advice(ctx, stack_id, status)
        raise StepFailed(message)
    return outputs_of(stack or {})


def empty_change_set(cs: dict[str, Any]) -> bool:
    """A change set CloudFormation refused because the template and parameters equal the stack's.

    DescribeChangeSet has no error code for this case: it is FAILED, UNAVAILABLE for execution, with no
    changes, and its StatusReason says so. The reason text is the only discriminator CloudFormation
    gives, so it is checked last and only after the structural conditions hold.
    """
    if cs.get("Status") != "FAILED" or cs.get("Changes"):
        return False
    if cs.get("ExecutionStatus") not in (None, "UNAVAILABLE"):
        return False
    reason = str(cs.get("StatusReason", ""))
    return "didn't contain changes" in reason or "No updates are to be performed" in reason
