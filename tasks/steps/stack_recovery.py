"""What to do with a stack CloudFormation takes no update in: said per status, with the exact command.

Never "destroy the env": the stack's env holds tables with rows, and every one of these states has a way
out that keeps them.

- UPDATE_ROLLBACK_FAILED: a failed update could not set a resource back (the function's previous code key
  gone, aws-facts.md "Rollbacks re-read old artifacts"). CloudFormation takes only ContinueUpdateRollback:
  fix what the resource needs and continue, or skip the resources that cannot be set back
  (``--resources-to-skip``; CloudFormation then records them as rolled back, and the next deploy updates
  them to the config).
- UPDATE_FAILED, CREATE_FAILED (a stack made with rollback disabled): ``rollback-stack``.
- DELETE_FAILED, ROLLBACK_FAILED: only a delete is taken: fix what stopped it (named with the reasons),
  delete again and deploy; ``--retain-resources`` would leave the resources that failed outside any stack.
"""

from __future__ import annotations

from typing import Any

from tasks.config import Config
from tasks.step import Context
from tasks.steps.stack_events import failed_resources, since

ROLLBACK_FAILED = "UPDATE_ROLLBACK_FAILED"
ROLL_BACK = ("UPDATE_FAILED", "CREATE_FAILED")
DELETE_ONLY = ("DELETE_FAILED", "ROLLBACK_FAILED")


def aws_cli(config: Config, operation: str, stack_name: str, *extra: str) -> str:
    """The AWS CLI command for the env's stack, with its region (and endpoint, for a local env)."""
    parts = ["aws", "cloudformation", operation, "--stack-name", stack_name, "--region", config.region]
    if config.endpoint:
        parts += ["--endpoint-url", config.endpoint]
    return " ".join([*parts, *extra])


def failed_in_rollback(events: list[dict[str, Any]], stack_name: str) -> list[dict[str, Any]]:
    """The resources whose latest event since the stack's last UPDATE_ROLLBACK_IN_PROGRESS is UPDATE_FAILED
    (events newest first, as DescribeStackEvents gives them): what ResourcesToSkip may name."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        logical = str(event.get("LogicalResourceId"))
        if logical == stack_name:
            if event.get("ResourceStatus") == "UPDATE_ROLLBACK_IN_PROGRESS":
                break
            continue
        latest.setdefault(logical, event)
    return [e for e in reversed(latest.values()) if e.get("ResourceStatus") == "UPDATE_FAILED"]


def advice(ctx: Context, stack_id: str, status: str) -> str:
    """How to get the stack updatable again (reads its events); "" for a status with nothing to add."""
    config = ctx.config
    name = config.stack_name
    if status == ROLLBACK_FAILED:
        events = since(ctx, stack_id, set())
        return rollback_advice(config, failed_in_rollback(events, name))
    if status in ROLL_BACK:
        return (
            f"roll it back with `{aws_cli(config, 'rollback-stack', name)}`, "
            f"then run `doit deploy env={config.env}` again"
        )
    if status in DELETE_ONLY:
        failed = [e for e in failed_resources(ctx, stack_id) if e.get("LogicalResourceId") != name]
        why = "; ".join(f"{e.get('LogicalResourceId')}: {e.get('ResourceStatusReason')}" for e in failed)
        names = " ".join(str(e.get("LogicalResourceId")) for e in failed)
        text = "CloudFormation takes only a delete of it now"
        text += f" ({why})" if why else ""
        text += (
            f": fix what stopped that delete, then run `{aws_cli(config, 'delete-stack', name)}` and "
            f"`doit deploy env={config.env}` to create the stack again"
        )
        if names:
            text += f"; `--retain-resources {names}` leaves those out of the delete, outside any stack"
        return text
    return f"see its events: `{aws_cli(config, 'describe-stack-events', name)}`"


def rollback_advice(config: Config, failed: list[dict[str, Any]]) -> str:
    name = config.stack_name
    names = [str(e.get("LogicalResourceId")) for e in failed]
    why = "; ".join(
        f"{e.get('LogicalResourceId')} ({e.get('ResourceType')}): {e.get('ResourceStatusReason') or '?'}"
        for e in failed
    )
    cont = aws_cli(config, "continue-update-rollback", name)
    text = (
        f"CloudFormation could not roll back {why or 'every resource'}. The stack takes no update until its "
        "rollback finishes (nothing needs deleting: the tables stay as they are). Fix what the rollback "
        "needs (for a code key that is gone: the previous zip back at its key in the artifacts bucket, as "
        f"docs/upgrades.md says), then run `{cont}`"
    )
    if names:
        text += (
            f"; or leave {', '.join(names)} as it is now (CloudFormation records it as rolled back, and the "
            f"next deploy updates it to the config): `{cont} --resources-to-skip {' '.join(names)}`"
        )
    return text + f"; then run `doit deploy env={config.env}` again"
