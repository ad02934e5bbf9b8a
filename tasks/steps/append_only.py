"""A stream found with AppendOnly false (re-created out of band, or by an older tool) is repaired in place.

`IcebergDestinationUpdate.AppendOnly` turns it on with UpdateDestination (terraform-provider-aws 43067 and
its PR 43647 report AWS takes false -> true and refuses true -> false; AWS's guide still says only create
sets it: aws-facts.md), so the stream keeps its ARN and the records it buffers. Only if AWS refuses it, by
error code (InvalidArgumentException), is the stream deleted and re-created, losing what it buffered; when
other fields rode along in the same update, that update is first sent again without AppendOnly, so an
error that is not AppendOnly's stands and keeps the stream. A stream re-created by hand usually lacks the
env's tags too, which a re-create put back: the repair puts them back as well (one ListTagsForDeliveryStream,
and a TagDeliveryStream when some are missing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context, Outcome
from tasks.steps.stream_spec import Desired, Observed

# UpdateDestination's answer when AWS will not turn AppendOnly on in place: then the stream is re-created.
REFUSED = ("InvalidArgumentException",)
IN_PLACE = "AppendOnly false -> true by UpdateDestination; replaced if AWS refuses"


def update_destination(ctx: Context, have: Observed, update: dict[str, Any]) -> None:
    ctx.clients.firehose.update_destination(
        DeliveryStreamName=have.name,
        CurrentDeliveryStreamVersionId=have.version_id,
        DestinationId=have.destination_id,
        IcebergDestinationUpdate=update,
    )


def turn_on(
    ctx: Context, want: Desired, have: Observed, update: dict[str, Any], recreate: Callable[[], None]
) -> Outcome:
    """UpdateDestination with AppendOnly (and whatever else differs); `recreate` only on AWS's refusal."""
    try:
        update_destination(ctx, have, update)
    except ClientError as exc:
        code = error_code(exc)
        if code not in REFUSED:
            raise
        rest = {k: v for k, v in update.items() if k != "AppendOnly"}
        if rest:  # nothing changed yet, so the version is the same: an error here is not AppendOnly's
            update_destination(ctx, have, rest)
        ctx.say(f"  stream {want.name}: AWS refused AppendOnly in place ({code}): re-creating it")
        recreate()
        return Outcome("replaced", [f"{want.name} re-created: AWS refused AppendOnly in place ({code})"])
    details = [f"{want.name}: {', '.join(update)} updated in place (the stream and what it buffers kept)"]
    return Outcome("updated", details + put_back_tags(ctx, want))


def put_back_tags(ctx: Context, want: Desired) -> list[str]:
    """The env's tags the stream lacks (or holds with another value), put back; others' tags are kept."""
    fh = ctx.clients.firehose
    listed = fh.list_tags_for_delivery_stream(DeliveryStreamName=want.name, Limit=50).get("Tags", [])
    have = {t["Key"]: t.get("Value", "") for t in listed}
    missing = {k: v for k, v in want.tags.items() if have.get(k) != v}
    if not missing:
        return []
    fh.tag_delivery_stream(
        DeliveryStreamName=want.name, Tags=[{"Key": k, "Value": v} for k, v in missing.items()]
    )
    return [f"{want.name}: tags put back: {', '.join(sorted(missing))}"]
