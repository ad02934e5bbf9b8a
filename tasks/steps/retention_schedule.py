"""The retention schedule (a retention window) kept as the stack's template declares it, in one read.

The stack holds the EventBridge Scheduler schedule that runs the retention function daily
(templates/retention.yaml.j2). CloudFormation does not notice a schedule disabled, deleted or retargeted
outside it (console, another tool), and repairs only what its template changes, so this step does: one
scheduler:GetSchedule once the stack exists, compared field by field with the rendered template's
definition (its Target's GetAtts resolved from the stack's RetentionFunctionArn and RetentionScheduleRoleArn
outputs). A schedule that differs is written back with UpdateSchedule and the whole definition (UpdateSchedule
replaces the schedule: a field left out would take its default); a deleted one is made again with
CreateSchedule, same name and group (the stack's physical id, so the stack keeps managing it). A converged
env costs the one read and no write; the run that created the stack reads nothing (the stack made it so);
an env without a window has no schedule and no such step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import StepFailed, error_code
from tasks.step import Change, Context, Diff, Outcome

NAME = "retention_schedule"
RESOURCE = "RetentionSchedule"  # its logical id in templates/retention.yaml.j2
# The Target's GetAtts (`Logical.Attribute`) -> the stack outputs that give them.
ATTRIBUTES = (
    ("RetentionFunction.Arn", "RetentionFunctionArn"),
    ("RetentionScheduleRole.Arn", "RetentionScheduleRoleArn"),
)
# What GetSchedule says of a schedule's definition; those the template leaves out must be absent.
FIELDS = (
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "State",
    "StartDate",
    "EndDate",
    "KmsKeyArn",
)
TARGET = "Target"


@dataclass(frozen=True)
class Desired:
    name: str
    stack: bool = False  # the stack exists; before it does, its create makes the schedule
    # CreateSchedule's / UpdateSchedule's arguments: the template's properties, resolved; None while the
    # stack has not the outputs naming its target (the stack step's update adds them first).
    definition: dict[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Observed:
    name: str
    read: bool = False  # False: nothing read (no stack, its outputs not there yet, or just created by it)
    schedule: dict[str, Any] | None = field(default=None, hash=False)  # GetSchedule's answer; None: missing


def desired(ctx: Context) -> Desired:
    from tasks.steps import stack
    from tasks.steps.firehose_role import resolve

    name = ctx.config.retention_schedule_name
    outputs = ctx.facts.stack_outputs
    if not outputs:
        return Desired(name)
    values = {attribute: outputs.get(output, "") for attribute, output in ATTRIBUTES}
    if not all(values.values()):
        return Desired(name, True)
    if stack.pending(ctx, RESOURCE):  # the stack's update is to change it: compared after that update
        return Desired(name, True)
    props = stack.desired(ctx).template["Resources"][RESOURCE]["Properties"]
    return Desired(name, True, resolve(props, values))


def observe(ctx: Context) -> Observed:
    want = desired(ctx)
    if want.definition is None:
        return Observed(want.name)
    if ctx.facts.stack_created:  # CloudFormation made it with this very definition in this run
        return Observed(want.name, True, dict(want.definition))
    try:
        found = ctx.clients.client("scheduler").get_schedule(Name=want.name)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return Observed(want.name, True, None)
    found.pop("ResponseMetadata", None)
    return Observed(want.name, True, dict(found))


def drift(want: dict[str, Any], have: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Each field (the Target's one by one) whose live value is not the template's: (observed, desired)."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in FIELDS:
        if have.get(key) != want.get(key):
            out[key] = (have.get(key), want.get(key))
    live, wanted = have.get(TARGET) or {}, want.get(TARGET) or {}
    for key in sorted(set(live) | set(wanted), key=lambda k: (k not in wanted, k)):
        if live.get(key) != wanted.get(key):
            out[f"{TARGET}.{key}"] = (live.get(key), wanted.get(key))
    return out


def _why(fields: dict[str, tuple[Any, Any]]) -> str:
    if set(fields) == {"State"}:
        what = "disabled"
    elif any(k.startswith(f"{TARGET}.") for k in fields):
        what = "retargeted"
    else:
        what = "changed"
    return f"{what} outside CloudFormation: the stack's template declares it otherwise"


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    if not want.stack:
        return Diff(notes=["no stack yet: its create makes the retention schedule"])
    if want.definition is None or not have.read:
        return Diff(
            notes=[
                "the stack's update is to change the schedule, or add the outputs naming the schedule's "
                "target: deploy compares it after that update"
            ]
        )
    res = f"schedule {want.name}"
    if have.schedule is None:
        fields = {k: (None, v) for k, v in want.definition.items() if k != "Name"}
        return Diff(
            [
                Change(
                    "create", res, fields, "deleted outside CloudFormation: the stack's template declares it"
                )
            ]
        )
    fields = drift(want.definition, have.schedule)
    if not fields:
        return Diff()
    return Diff([Change("update", res, fields, _why(fields))])


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    """UpdateSchedule (or CreateSchedule when deleted) with the template's whole definition."""
    spec = d.desired.definition
    if spec is None:
        raise StepFailed(
            f"error: schedule {d.desired.name}: the stack gives no complete definition of it (its "
            f"{', '.join(o for _, o in ATTRIBUTES)} outputs are missing?): run "
            f"`doit deploy env={ctx.config.env}` again"
        )
    scheduler = ctx.clients.client("scheduler")
    details: list[str] = []
    for change in d.changes:
        if change.action == "create":
            scheduler.create_schedule(**spec)
            details.append(f"{change.resource}: made again as the stack's template declares it")
        else:
            scheduler.update_schedule(**spec)
            details.append(
                f"{change.resource}: {', '.join(change.fields)} restored as the stack's template declares it"
            )
    created = any(c.action == "create" for c in d.changes)
    return Outcome("created" if created else "updated", details)


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.read:
        return [("retention schedule", f"{have.name}: not read (the stack makes it)")]
    if have.schedule is None:
        return [("retention schedule", f"{have.name}: missing")]
    s = have.schedule
    target = str((s.get(TARGET) or {}).get("Arn", ""))
    return [
        ("retention schedule", f"{have.name}: {s.get('State')}, {s.get('ScheduleExpression')}, runs {target}")
    ]
