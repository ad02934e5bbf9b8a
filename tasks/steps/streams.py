"""One Firehose stream per signal (`STACK-SIGNAL`): DirectPut into the signal's Iceberg table, AppendOnly.

Created through the API, after the Lake Formation grants (the stack cannot grant between creating the
role and the streams). An existing stream is compared field by field: what UpdateDestination can change
is updated in place, AppendOnly false -> true included (`IcebergDestinationUpdate.AppendOnly`; public
reports say AWS takes it in place, aws-facts.md), so the records the stream buffers are kept. Only if AWS
refuses that (by error code) is the stream deleted and re-created; plan says which will happen. Another
table or catalog means delete and re-create, announced and shown by plan as `replace`. A description
without AppendOnly is "unknown" (a note), never a reason to change the stream. Streams of signals that are
no longer enabled are deleted by the `stream_cleanup` step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from lake.signals import ALL_SIGNALS
from tasks.errors import StepFailed, error_code
from tasks.polling import poll, resource_delays, retry_codes
from tasks.step import Change, Context, Diff, Outcome, Teardown
from tasks.steps import append_only, stream_tags
from tasks.steps.stream_spec import Desired, Observed, destination, observed_from

STREAM_DEADLINE_S = 15 * 60
# Fields UpdateDestination changes in place (AppendOnly only false -> true); the rest need a new stream.
UPDATABLE = (
    "AppendOnly",
    "BufferingHints",
    "CloudWatchLoggingOptions",
    "RoleARN",
    "RetryOptions",
    "S3Configuration",
)
REPLACING = ("CatalogConfiguration", "DestinationTableConfigurationList", "DeliveryStreamType")
# CreateDeliveryStream right after CloudFormation created the role: Firehose cannot assume it yet.
ROLE_NOT_READY = ("InvalidArgumentException",)


def desired(ctx: Context, signal: str) -> Desired:
    return Desired(
        ctx.config.stream_name(signal),
        signal,
        destination(ctx, signal),
        dict(ctx.config.all_tags),
        role_pending=ctx.facts.firehose_role_arn is None,
    )


def describe(ctx: Context, name: str) -> dict[str, Any] | None:
    try:
        out: dict[str, Any] = ctx.clients.firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
        return out
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def observe(ctx: Context, signal: str) -> Observed:
    name = ctx.config.stream_name(signal)
    have = observed_from(name, describe(ctx, name))
    if have.exists and have.status in ("ACTIVE", "CREATING"):
        have = replace(have, tags=stream_tags.read(ctx, name))
    return have


def _compare(
    want: dict[str, Any], have: dict[str, Any], stream_type: str | None
) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    if stream_type != "DirectPut":
        out["DeliveryStreamType"] = (stream_type, "DirectPut")
    if not have.get("Iceberg"):
        out["Destination"] = ("not Iceberg", "Iceberg")
    for key in (*REPLACING[:2], *UPDATABLE):
        if key == "AppendOnly" and have.get(key) is None:
            continue  # absent is unknown, not false: see diff()'s note
        if key == "CloudWatchLoggingOptions":
            w = want[key]
            h = have.get(key) or {}
            if {k: h.get(k) for k in w} != w:
                out[key] = (h or None, w)
        elif have.get(key) != want[key]:
            out[key] = (have.get(key), want[key])
    return out


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    res = f"firehose stream {want.name}"
    if not have.exists:
        return Diff(
            [
                Change(
                    "create", res, {"AppendOnly": (None, True), "DestinationTable": (None, f"{want.signal}")}
                )
            ]
        )
    if have.status == "CREATING_FAILED":
        return Diff(
            [
                Change(
                    "replace",
                    res,
                    {"DeliveryStreamStatus": (have.status, "ACTIVE")},
                    reason=f"creation failed ({have.failure}); delete and re-create",
                )
            ]
        )
    if have.status == "DELETING_FAILED":
        return Diff(
            [
                Change(
                    "replace",
                    res,
                    {"DeliveryStreamStatus": (have.status, "ACTIVE")},
                    reason="delete failed; force-delete and re-create",
                )
            ]
        )
    if have.status == "DELETING":
        return Diff(
            [
                Change(
                    "create",
                    res,
                    {"DeliveryStreamStatus": (have.status, "ACTIVE")},
                    reason="being deleted; wait until gone, then create",
                )
            ]
        )
    fields = _compare(want.destination, have.fields, have.stream_type)
    notes = [unknown_note(want.name)] if have.fields.get("AppendOnly") is None else []
    replace = [k for k in fields if k in (*REPLACING, "Destination")]
    if replace:
        why = f"{', '.join(replace)} cannot change in place: delete and re-create"
        return Diff([Change("replace", res, fields, reason=why)], notes)
    put, drop = stream_tags.changes(want.tags, have.tags)
    if put or drop:
        assert have.tags is not None
        fields["Tags"] = (
            {k: have.tags[k] for k in sorted({*put, *drop}) if k in have.tags},
            {k: want.tags[k] for k in sorted(put)},
        )
    if have.status == "CREATING":
        fields["DeliveryStreamStatus"] = (have.status, "ACTIVE")
        return Diff([Change("update", res, fields, reason="creating: wait for ACTIVE")], notes)
    if "AppendOnly" in fields:
        how = f"in place: {append_only.IN_PLACE}"
    else:
        ways = ["UpdateDestination"] if set(fields) - {"Tags"} else []
        ways += ["tags in place"] if "Tags" in fields else []
        how = " and ".join(ways)
    return Diff([Change("update", res, fields, reason=how)] if fields else [], notes)


def unknown_note(name: str) -> str:
    return (
        f"stream {name}: AppendOnly unknown (DescribeDeliveryStream does not return it); "
        "kept: a stream is replaced only when AppendOnly is explicitly false"
    )


def append_only_text(value: bool | None) -> str:
    """How status, plan and deploy print AppendOnly: True, False, or unknown when AWS leaves it out."""
    return "unknown" if value is None else str(value)


# -- apply ------------------------------------------------------------------------------------------


def wait_status(ctx: Context, name: str, leave: tuple[str, ...], *, read_now: bool = True) -> Observed:
    """Poll DescribeDeliveryStream with backoff until its status is not one of `leave` (or it is gone).

    read_now=False waits the first delay before the first read: right after CreateDeliveryStream a stream
    is always CREATING, and that read would only add a call.
    """
    return poll(
        lambda: observed_from(name, describe(ctx, name)),
        lambda have: not have.exists or have.status not in leave,
        resource_delays(STREAM_DEADLINE_S, local=ctx.config.is_local, read_now=read_now),
        lambda have: StepFailed(
            f"error: stream {name} still {have.status} after {STREAM_DEADLINE_S // 60} minutes"
        ),
        read_now=read_now,
    )


def delete_stream(ctx: Context, name: str, force: bool = False) -> None:
    """Delete a stream and wait until it is gone; a CREATING stream is first waited for."""
    have = wait_status(ctx, name, ("CREATING",))
    if not have.exists:
        return
    if have.status != "DELETING":
        kwargs: dict[str, Any] = {"DeliveryStreamName": name}
        if force or have.status == "DELETING_FAILED":
            kwargs["AllowForceDelete"] = True
        try:
            ctx.clients.firehose.delete_delivery_stream(**kwargs)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
    gone = wait_status(ctx, name, ("DELETING", "ACTIVE", "CREATING_FAILED"))
    if gone.exists:
        raise StepFailed(f"error: stream {name} could not be deleted: {gone.status} ({gone.failure})")


def create_stream(ctx: Context, want: Desired) -> Observed:
    fh = ctx.clients.firehose

    def create() -> Any:
        return fh.create_delivery_stream(
            DeliveryStreamName=want.name,
            DeliveryStreamType="DirectPut",
            IcebergDestinationConfiguration=copy.deepcopy(want.destination),
            Tags=[{"Key": k, "Value": v} for k, v in want.tags.items()],
        )

    if ctx.facts.stack_changed:
        retry_codes(create, ROLE_NOT_READY, deadline_s=90)
    else:
        create()
    have = wait_status(ctx, want.name, ("CREATING",), read_now=False)
    if have.status != "ACTIVE":
        raise StepFailed(f"error: stream {want.name} ended {have.status}: {have.failure}")
    return have


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    have = d.observed
    if want.role_pending:
        want = desired(ctx, want.signal)  # the stack was created after this step was evaluated
    if want.role_pending:
        raise StepFailed(
            f"error: stack {ctx.config.stack_name} has no FirehoseRoleArn output: run `doit deploy` "
            "again once the stack is complete"
        )
    change = d.changes[0]
    if change.action == "create":
        if have.exists:  # DELETING
            wait_status(ctx, want.name, ("DELETING",))
        created = create_stream(ctx, want)
        return Outcome(
            "created",
            [f"{want.name} ACTIVE, AppendOnly={append_only_text(created.fields.get('AppendOnly'))}"],
        )
    if change.action == "replace":
        ctx.say(f"  stream {want.name}: re-creating it ({change.reason})")
        delete_stream(ctx, want.name, force=have.status == "DELETING_FAILED")
        created = create_stream(ctx, want)
        return Outcome("replaced", [f"{want.name} re-created: {change.reason}"])
    if have.status == "CREATING":
        have = wait_status(ctx, want.name, ("CREATING",))
        again = diff(want, have)
        if again.empty:
            return Outcome("waited", [f"{want.name} is ACTIVE"])
        again.desired, again.observed = want, have
        return apply(ctx, again)
    update: dict[str, Any] = {k: copy.deepcopy(want.destination[k]) for k in UPDATABLE if k in change.fields}
    if "AppendOnly" in update:  # a stream re-created without it: repaired in place, or re-created

        def recreate() -> None:
            delete_stream(ctx, want.name)
            create_stream(ctx, want)

        return append_only.turn_on(ctx, want, have, update, recreate)  # it puts the env's tags back too
    if update:
        append_only.update_destination(ctx, have, update)
    retagged = stream_tags.apply(ctx, want.name, want.tags, have.tags)
    done = [*update, *(["Tags"] if retagged else [])]
    return Outcome("updated", [f"{want.name}: {', '.join(done)} updated in place"])


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.exists:
        return [(f"stream {have.name}", "missing")]
    state = f"{have.status}, AppendOnly={append_only_text(have.fields.get('AppendOnly'))}"
    return [(f"stream {have.name}", state)]


# -- streams of signals no longer enabled --------------------------------------------------------------

CLEANUP = "stream_cleanup"


@dataclass(frozen=True)
class Leftovers:
    names: tuple[str, ...]


def env_stream_names(ctx: Context) -> list[str]:
    """Every existing stream named STACK-SIGNAL for a known signal (ListDeliveryStreams, paginated)."""
    fh = ctx.clients.firehose
    names: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 10000}
    while True:
        page = fh.list_delivery_streams(**kwargs)
        names.extend(page.get("DeliveryStreamNames", []))
        if not page.get("HasMoreDeliveryStreams") or not page.get("DeliveryStreamNames"):
            break
        kwargs["ExclusiveStartDeliveryStreamName"] = page["DeliveryStreamNames"][-1]
    ours = {ctx.config.stream_name(s) for s in ALL_SIGNALS}
    return [n for n in names if n in ours]


LISTED = "teardown:streams"


def teardown(signal: str) -> Teardown[str]:
    """destroy deletes the signal's stream (one ListDeliveryStreams serves every signal's find)."""

    def find(ctx: Context) -> str | None:
        name = ctx.config.stream_name(signal)
        return name if name in ctx.memo(LISTED, lambda: env_stream_names(ctx)) else None

    def delete(ctx: Context, name: str) -> None:
        delete_stream(ctx, name)
        ctx.say(f"deleted firehose stream {name}")

    return Teardown(find, lambda name: [f"firehose stream {name}"], delete)


def cleanup_desired(ctx: Context) -> Leftovers:
    return Leftovers(tuple(ctx.config.stream_name(s) for s in ctx.config.signals))


def cleanup_observe(ctx: Context) -> Leftovers:
    return Leftovers(tuple(env_stream_names(ctx)))


def cleanup_diff(want: Leftovers, have: Leftovers) -> Diff[Leftovers, Leftovers]:
    return Diff(
        [
            Change("delete", f"firehose stream {n}", reason="its signal is no longer enabled")
            for n in have.names
            if n not in want.names
        ]
    )


def cleanup_apply(ctx: Context, d: Diff[Leftovers, Leftovers]) -> Outcome:
    want = d.desired
    names = [n for n in d.observed.names if n not in want.names]  # the streams cleanup_diff deletes
    for name in names:
        delete_stream(ctx, name)
    return Outcome("deleted", [f"deleted {n}" for n in names])


def cleanup_report(have: Leftovers) -> list[tuple[str, str]]:
    return [("env streams", ", ".join(have.names) or "none")]
