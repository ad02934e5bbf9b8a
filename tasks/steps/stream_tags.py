"""A stream's tags: read (ListTagsForDeliveryStream), compared with the env's, and put right in place.

The env's tags (config `tags` plus the env tag) are set, and tags of the tool's own prefix it no longer
sets (the env tag's former name `otlp2pipeline:env`) removed; tags someone else put on the stream stay.
"""

from __future__ import annotations

from typing import Any

from tasks.step import Context

# Tag keys the tool sets: `otlp2pipeline-env`, and `otlp2pipeline:env` before S3 Tables' tag rule was known.
TOOL_TAG_PREFIXES = ("otlp2pipeline-", "otlp2pipeline:")


def read(ctx: Context, name: str) -> dict[str, str]:
    """The stream's tags (ListTagsForDeliveryStream, every page)."""
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"DeliveryStreamName": name, "Limit": 50}
    while True:
        page = ctx.clients.firehose.list_tags_for_delivery_stream(**kwargs)
        tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
        if not page.get("HasMoreTags") or not page.get("Tags"):
            return tags
        kwargs["ExclusiveStartTagKey"] = page["Tags"][-1]["Key"]


def changes(want: dict[str, str], have: dict[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove); nothing when the tags were not read."""
    if have is None:
        return {}, []
    put = {k: v for k, v in want.items() if have.get(k) != v}
    drop = [k for k in have if k not in want and k.startswith(TOOL_TAG_PREFIXES)]
    return put, sorted(drop)


def apply(ctx: Context, name: str, want: dict[str, str], have: dict[str, str] | None) -> bool:
    """TagDeliveryStream and UntagDeliveryStream as `changes` says; whether anything was written."""
    put, drop = changes(want, have)
    if put:
        ctx.clients.firehose.tag_delivery_stream(
            DeliveryStreamName=name, Tags=[{"Key": k, "Value": v} for k, v in put.items()]
        )
    if drop:
        ctx.clients.firehose.untag_delivery_stream(DeliveryStreamName=name, TagKeys=drop)
    return bool(put or drop)
