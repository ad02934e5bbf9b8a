"""The env's CloudFormation stack, created or updated through a change set.

No change set at all when the rendered template (parsed) and the parameters and tags equal the deployed
ones: a no-op deploy costs DescribeStacks + GetTemplate and nothing else. While the stack changes, its
events are streamed. The diff names every resource and property that changes and what CloudFormation
replaces (tasks/stack_diff.py); observe reads the resource schemas' create-only properties only when the
template's resources or the parameter values differ, and what a bucket holds only when the diff deletes or
replaces it.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from botocore.exceptions import ClientError

from lake import cfn_schemas
from tasks import stack_diff
from tasks.errors import StepFailed, error_code
from tasks.step import Change, Context, Diff, Outcome, Result, plain
from tasks.steps import rollback_code, stack_recovery
from tasks.steps.function import code_change
from tasks.steps.stack_events import (
    delete_stack,
    described,
    forget_described,
    wait_stack,
)
from tasks.steps.stack_state import (
    UPDATABLE,
    Desired,
    Observed,
    outputs_of,
    run_change_set,
)

NAME = "stack"


def desired(ctx: Context) -> Desired:
    """Rendered once per run: observe compares it with the deployed template to know what to read."""
    want: Desired = ctx.memo(f"{NAME}.desired", lambda: _render(ctx))
    return want


def _render(ctx: Context) -> Desired:
    from tasks import template
    from tasks.steps import ingest_code

    # The ingest zip's key: a code change is a new key, so a new Code.S3Key and a function update.
    params = {"IngestCodeKey": ingest_code.artifact(ctx).key} if ctx.config.ingest.function.enabled else {}
    if ctx.config.retention_enabled:  # the retention function's zip, and the windows it runs with
        from tasks.steps import retention_code
        from tasks.steps.retention import WINDOWS_PARAMETER, windows_text

        params.update(
            {
                "RetentionCodeKey": retention_code.artifact(ctx).key,
                WINDOWS_PARAMETER: windows_text(ctx.config),
            }
        )
    return Desired(
        ctx.config.stack_name,
        template.render(ctx.config),
        plain(template.parsed(ctx.config)),
        params,
        dict(ctx.config.all_tags),
    )


def parse_body(body: Any) -> dict[str, Any]:
    """GetTemplate's TemplateBody: botocore already decodes JSON bodies to dicts; YAML comes as text."""
    if isinstance(body, dict):
        return plain(body)
    text = str(body)
    try:
        return dict(json.loads(text))
    except ValueError:
        # libyaml when present: the pure-Python loader took ~0.1 s of a ~1 s no-op deploy (bench/run.py).
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return plain(doc) if isinstance(doc, dict) else {}


def observe(ctx: Context) -> Observed:
    from tasks.steps import stack_move

    stack = described(ctx)
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return Observed(False, **stack_move.kept_bucket(ctx))
    status = stack["StackStatus"]
    tmpl = None
    if status not in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
        body = ctx.clients.cloudformation.get_template(StackName=stack["StackId"], TemplateStage="Original")
        tmpl = parse_body(body.get("TemplateBody", ""))
    kept = stack_move.kept_bucket(ctx) if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS") else {}
    moving = _moving(ctx, tmpl or {}) if status in UPDATABLE else ()
    create_only: dict[str, tuple[tuple[str, ...], ...]] = {}
    objects: dict[str, stack_diff.Contents] = {}
    want = desired(ctx)
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    params = stack_diff.changed_params(parameters, want.parameters)
    if tmpl is not None and (params or tmpl.get("Resources") != want.template.get("Resources")):
        create_only = _create_only(ctx, want.template, tmpl)
        for lid in stack_diff.at_risk(want.template, tmpl, create_only, params, "AWS::S3::Bucket"):
            objects[lid] = _contents(ctx, stack["StackId"], lid)
    back = None
    if tmpl is not None and status in UPDATABLE:
        from tasks.steps import stack_namespace

        back = stack_namespace.observe(ctx, want.template, tmpl)
    return Observed(
        True,
        stack["StackId"],
        status,
        stack.get("StackStatusReason"),
        outputs_of(stack),
        parameters,
        {t["Key"]: t["Value"] for t in stack.get("Tags", [])},
        tmpl,
        kept.get("kept_bucket"),
        bool(kept.get("kept_namespace")),
        moving,
        create_only,
        objects,
        back,
    )


def _create_only(
    ctx: Context, want: dict[str, Any], have: dict[str, Any]
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Every type of both templates: a replaced resource can force the replacement of one referring to it."""
    types = {
        str(r.get("Type", ""))
        for tmpl in (want, have)
        for r in (tmpl.get("Resources") or {}).values()
        if isinstance(r, dict)
    }
    return {t: cfn_schemas.create_only(t, ctx.config.region) for t in sorted(types)}


def _contents(ctx: Context, stack_id: str, lid: str) -> stack_diff.Contents:
    """One page of object versions of the stack's bucket `lid` (the diff would delete or replace it)."""
    cfn, s3 = ctx.clients.cloudformation, ctx.clients.s3
    try:
        found = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=lid)
        bucket = str(found["StackResourceDetail"].get("PhysicalResourceId") or "")
    except ClientError as exc:
        if error_code(exc) != "ValidationError":  # the resource is not (yet) in the stack
            raise
        bucket = ""
    if not bucket:
        return stack_diff.Contents(lid, 0)
    try:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucket":
            raise
        return stack_diff.Contents(bucket, 0)
    return stack_diff.Contents(bucket, len(page.get("Versions", [])), bool(page.get("IsTruncated")))


def _moving(ctx: Context, deployed: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The tables the deployed template holds, with their rows (the LoadTable the tables steps reuse)."""
    from tasks.steps import stack_move, tables
    from tasks.table_facts import size

    out = []
    for name in sorted(stack_move.held_tables(deployed).values()):
        live = tables.load(ctx, name)
        out.append((name, f"{live.rows:,} rows, {size(live.bytes)}" if live else "not found"))
    return tuple(out)


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    res = f"cloudformation stack {want.stack_name}"
    from tasks.steps import stack_move

    if not have.exists or have.status == "REVIEW_IN_PROGRESS":
        listed = {"Resources": (None, sorted(want.template.get("Resources", {})))}
        return Diff([Change("create", res, listed, reason=stack_move.import_reason(have))])
    if have.status == "ROLLBACK_COMPLETE":
        reason = "a failed create left it in ROLLBACK_COMPLETE: delete and re-create"
        if have.kept_bucket:
            reason += f" ({stack_move.import_reason(have)})"
        status = {"StackStatus": (have.status, "CREATE_COMPLETE")}
        return Diff([Change("replace", res, status, reason=reason)])
    assert have.status is not None
    if have.status.endswith("_IN_PROGRESS"):
        return Diff(
            [
                Change(
                    "update",
                    res,
                    {"StackStatus": (have.status, "a *_COMPLETE status")},
                    reason="busy: deploy waits for it, then compares again",
                )
            ]
        )
    if have.status not in UPDATABLE:
        return Diff(
            [
                Change(
                    "update",
                    res,
                    {"StackStatus": (have.status, "UPDATE_COMPLETE")},
                    reason=f"stack is {have.status}: {have.reason or 'needs attention'}",
                )
            ]
        )
    # The tables a deployed stack still holds leave it kept (DeletionPolicy Retain, the move's first update).
    have_template = stack_move.as_kept(have.template or {}) if have.moving else (have.template or {})
    params = stack_diff.changed_params(have.parameters, want.parameters)
    resources = stack_diff.resource_changes(
        want.template, have_template, have.create_only, params, have.objects
    )
    resources = stack_move.with_moves(resources, have.template or {}, dict(have.moving))
    fields = stack_diff.stack_fields(want.template, have_template, want.tags, have.tags)
    if have.parameters != want.parameters:  # a new IngestCodeKey alone: say it is the function's code
        fields["Parameters"] = code_change(have.parameters, want.parameters) or (
            have.parameters,
            want.parameters,
        )
    if not fields and not resources:
        return Diff()
    counts = ", ".join(
        f"{sum(c.action == a for c in resources)} to {a}"
        for a in stack_diff.ACTION_ORDER
        if any(c.action == a for c in resources)
    )
    reason = f"change set: {counts or 'no resource changes'}"
    if have.taking_back:
        from tasks.steps import stack_namespace

        resources = stack_namespace.with_take_back(resources, have.taking_back)
        reason = stack_namespace.stack_reason(have.taking_back, counts or "no resource changes")
        refused = stack_namespace.refusal(have.template or {}, have.taking_back, bool(have.moving))
        if refused:
            return Diff([Change("update", res, fields, reason=reason), *resources], refusals=[refused])
    if have.moving:
        reason = "two change sets: the first keeps the tables on removal (DeletionPolicy Retain), the second "
        reason += f"takes them out of the stack ({counts})"
    stack = Change("update", res, fields, reason=reason)
    return Diff([stack, *resources])


# -- apply ------------------------------------------------------------------------------------------


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    have = d.observed
    # Only a stack stuck in ROLLBACK_COMPLETE is replaced whole; a resource's "replace" is the change set's.
    recreate = have.exists and have.status == "ROLLBACK_COMPLETE"
    details: list[str] = []
    # REVIEW_IN_PROGRESS (a create change set never executed) never finishes by itself: it is created below.
    busy = bool(have.status and have.status.endswith("_IN_PROGRESS") and have.status != "REVIEW_IN_PROGRESS")
    if have.exists and busy:
        ctx.say(f"  stack: {have.status}; waiting for it to finish")
        status, _ = wait_stack(ctx, have.stack_id or want.stack_name, set())
        again = evaluate_again(ctx)
        if again.empty:
            ctx.facts.stack_outputs = dict(again.observed.outputs)
            ctx.facts.stack_template = again.observed.template
            return Outcome("waited", [f"stack finished {status}"])
        return apply(ctx, again)
    if recreate:
        ctx.say(
            f"  stack: {want.stack_name} is ROLLBACK_COMPLETE after a failed create: "
            "deleting and re-creating it"
        )
        delete_stack(ctx, have.stack_id or want.stack_name)
        details.append("deleted the ROLLBACK_COMPLETE stack and re-created it")
        have = Observed(False, kept_bucket=have.kept_bucket, kept_namespace=have.kept_namespace)
    elif have.exists and have.status not in UPDATABLE and have.status != "REVIEW_IN_PROGRESS":
        raise StepFailed(
            f"error: stack {want.stack_name} is {have.status} ({have.reason or 'no reason given'}): "
            + stack_recovery.advice(ctx, have.stack_id or want.stack_name, str(have.status))
        )
    kind = "UPDATE" if have.exists and have.status != "REVIEW_IN_PROGRESS" else "CREATE"
    created = kind == "CREATE"
    if created and have.kept_bucket:
        from tasks.steps.stack_move import import_kept

        details.append(import_kept(ctx, want, have))
        kind = "UPDATE"  # the rest of the template, onto the stack the import made
    if kind == "UPDATE" and have.taking_back:
        from tasks.steps.stack_namespace import take_back

        details += take_back(ctx, want, have)
    if kind == "UPDATE" and have.moving:
        _keep_tables(ctx, want, have)
        details += [f"moved table {name} out of the stack, kept ({figures})" for name, figures in have.moving]
    outputs = run_change_set(ctx, want, kind)
    ctx.facts.stack_template = want.template  # created, updated, or no change CloudFormation could make
    if outputs is None:
        ctx.facts.stack_outputs = dict(have.outputs)
        return Outcome("unchanged", ["CloudFormation found no changes"])
    result: Result = "replaced" if recreate else ("created" if created else "updated")
    if kind == "UPDATE":  # the update completed: the code key it moved away from is no longer needed
        details += rollback_code.retire(ctx, have.parameters, want.parameters)
    ctx.facts.stack_outputs = dict(outputs)
    ctx.facts.stack_changed = True
    ctx.facts.stack_created = result != "updated"
    return Outcome(result, details)


def _keep_tables(ctx: Context, want: Desired, have: Observed) -> None:
    """The first of the move's two updates: the tables get DeletionPolicy Retain (stack_move.py)."""
    from tasks.steps.stack_move import interim

    body = interim(want.template, have.template or {})
    ctx.say(f"  stack: keeping {', '.join(n for n, _ in have.moving)} on removal (DeletionPolicy Retain)")
    first = Desired(want.stack_name, json.dumps(body), body, want.parameters, want.tags)
    run_change_set(ctx, first, "UPDATE")


def evaluate_again(ctx: Context) -> Diff[Desired, Observed]:
    forget_described(ctx)
    want = desired(ctx)
    have = observe(ctx)
    d = diff(want, have)
    d.desired, d.observed = want, have
    return d


def publish(ctx: Context, have: Observed) -> None:
    """The outputs of a usable stack, for the steps after (the Firehose role ARN)."""
    if have.exists and have.status in UPDATABLE:
        ctx.facts.stack_outputs = dict(have.outputs)
        ctx.facts.stack_template = have.template


def pending(ctx: Context, logical_id: str) -> bool:
    """The stack's update is to change resource `logical_id`: the template the stack holds
    (Facts.stack_template) declares it otherwise than the rendered one, or not at all. The steps that repair
    drift outside CloudFormation compare such a resource only after that update, so a config change is the
    stack's change alone, in plan as in deploy."""
    held = ctx.facts.stack_template
    if held is None:  # no stack read (none yet, or one that cannot be updated): nothing is pending
        return False
    rendered = (desired(ctx).template.get("Resources") or {}).get(logical_id)
    return bool((held.get("Resources") or {}).get(logical_id) != rendered)


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.exists:
        return [("stack", "missing")]
    lines = [("stack", f"{have.status}" + (f" ({have.reason})" if have.reason else ""))]
    lines += [(f"  output {k}", v) for k, v in sorted(have.outputs.items())]
    return lines
