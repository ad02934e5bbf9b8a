"""S3 lifecycle expiration, run on the local AWS's clock (emulator/core/clock.py).

moto stores a bucket's lifecycle rules and never acts on them. Here every move of the clock forward (the
fault ``{"clock": {"offset_seconds": N}}``) evaluates each bucket's enabled rules against its objects, as
S3's daily lifecycle run would, so a test sees a month's expiry without waiting a month:

- ``Expiration`` (``Days`` or ``Date``) on the current version: a versioned bucket gets a delete marker
  (the version becomes noncurrent, nothing is lost yet), an unversioned one loses the object;
- ``NoncurrentVersionExpiration`` (``NoncurrentDays``): a noncurrent version is deleted for good, counted
  from when it became noncurrent (its successor's creation);
- ``ExpiredObjectDeleteMarker``: a delete marker that is the only version left is removed.

Days are counted as S3 counts them: the time plus N days, rounded up to the next midnight UTC. Filters as
moto's model keeps them: the rule's legacy top-level ``Prefix``, ``Filter.Prefix``, ``Filter.Tag`` and
``Filter.And`` (prefix and tags); a delete marker has no tags, so a rule with a tag filter skips it.

Objects are stamped by the same clock (moto's ``utcnow`` in its S3 model reads ``clock.now()``), so an
object put while the clock runs ahead is as young as it should be.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from moto.s3 import models as s3_models
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, LifecycleRule, S3Backend, s3_backends

from emulator.core import clock

DAY = 86_400.0


def clock_utcnow() -> datetime.datetime:
    """moto's naive-UTC ``utcnow``, read from the local AWS's clock."""
    return datetime.datetime.fromtimestamp(clock.now(), datetime.UTC).replace(tzinfo=None)


s3_models.utcnow = clock_utcnow  # every LastModified is the local AWS's time


def due(since: datetime.datetime, days: float) -> float:
    """When an action N days after `since` falls due (epoch seconds): rounded up to the next midnight UTC."""
    start = since.replace(tzinfo=datetime.UTC) if since.tzinfo is None else since
    at = start.timestamp() + days * DAY
    return (at // DAY + 1) * DAY


def _epoch(value: Any) -> float | None:
    """An expiration ``Date`` (ISO 8601, as the rule keeps it) in epoch seconds."""
    if value is None:
        return None
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)).timestamp()


def _tags(backend: S3Backend, version: Any) -> dict[str, str]:
    if not isinstance(version, FakeKey):
        return {}
    listed = backend.tagger.list_tags_for_resource(version.arn).get("Tags", [])
    return {str(t["Key"]): str(t.get("Value", "")) for t in listed}


def matches(rule: LifecycleRule, name: str, tags: dict[str, str] | None) -> bool:
    """Whether the rule's filter takes the key; ``tags`` None for a delete marker (it has none)."""
    if rule.filter is None:
        return name.startswith(rule.prefix or "")
    f = rule.filter
    if f.and_filter is not None:
        prefix, wanted = f.and_filter.prefix, dict(f.and_filter.tags)
    elif f.tag_key is not None:
        prefix, wanted = None, {str(f.tag_key): str(f.tag_value or "")}
    else:
        prefix, wanted = f.prefix, {}
    if not name.startswith(prefix or ""):
        return False
    if wanted and tags is None:
        return False
    return all((tags or {}).get(k) == v for k, v in wanted.items())


def _expire_current(
    backend: S3Backend, bucket: FakeBucket, name: str, rule: LifecycleRule, now: float
) -> None:
    current = bucket.keys.get(name)
    if not isinstance(current, FakeKey) or not matches(rule, name, _tags(backend, current)):
        return
    when = due(current.last_modified, float(rule.expiration_days)) if rule.expiration_days else None
    date = _epoch(rule.expiration_date)
    if not any(t is not None and now >= t for t in (when, date)):
        return
    if bucket.versioning_status in ("Enabled", "Suspended"):
        bucket.keys[name] = FakeDeleteMarker(key=current)  # noncurrent now; the data is still there
    else:
        backend.delete_object(bucket.name, name)


def _expire_noncurrent(
    backend: S3Backend, bucket: FakeBucket, name: str, rule: LifecycleRule, now: float
) -> None:
    versions = list(bucket.keys.getlist(name, []))
    for older, newer in itertools.pairwise(versions):
        if not isinstance(older, FakeKey) or not matches(rule, name, _tags(backend, older)):
            continue
        if now >= due(newer.last_modified, float(rule.nve_noncurrent_days or 0)):
            backend.delete_object(bucket.name, name, version_id=str(older.version_id))


def _drop_lone_marker(backend: S3Backend, bucket: FakeBucket, name: str, rule: LifecycleRule) -> None:
    versions = list(bucket.keys.getlist(name, []))
    if len(versions) == 1 and isinstance(versions[0], FakeDeleteMarker) and matches(rule, name, None):
        backend.delete_object(bucket.name, name, version_id=str(versions[0].version_id))


def _marker_rule(rule: LifecycleRule) -> bool:
    return str(rule.expired_object_delete_marker).lower() == "true"


def run_lifecycle(backend: S3Backend, bucket: FakeBucket, now: float) -> None:
    """One lifecycle run of one bucket at `now` (epoch seconds)."""
    rules = [r for r in (bucket.rules or []) if r.status == "Enabled"]
    for name in list(bucket.keys.keys()):
        for rule in rules:
            if rule.expiration_days or rule.expiration_date:
                _expire_current(backend, bucket, name, rule, now)
        for rule in rules:
            if rule.nve_noncurrent_days is not None:
                _expire_noncurrent(backend, bucket, name, rule, now)
        for rule in rules:
            if _marker_rule(rule):
                _drop_lone_marker(backend, bucket, name, rule)


@clock.on_advance
def expire_due(now: float) -> None:
    """The clock moved forward: every bucket of every account runs its lifecycle rules."""
    for _account, per_partition in list(s3_backends.items()):
        for backend in list(per_partition.values()):
            for bucket in list(backend.buckets.values()):
                if bucket.rules:
                    run_lifecycle(backend, bucket, now)
