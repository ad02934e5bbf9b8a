"""S3 lifecycle rules act on the local AWS's clock: the clock fault moves it a month, and what fell due goes.

Expiration (a delete marker in a versioned bucket, the object itself in an unversioned one),
NoncurrentVersionExpiration counted from when a version became noncurrent, ExpiredObjectDeleteMarker, prefix
and tag filters, and S3's rounding up to the next midnight UTC.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.s3.lifecycle import DAY, due

BUCKET = "lifecycle-test"


def _bucket(emu: Any, rules: list[dict[str, Any]], *, versioned: bool = True) -> Any:
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    return s3


def _days(emu: Any, n: float) -> None:
    emu.set_faults({"clock": {"offset_seconds": n * DAY}})


def _exists(s3: Any, key: str) -> bool:
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


def _versions(s3: Any, key: str) -> tuple[int, int]:
    """(object versions, delete markers) of one key."""
    out = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    return (
        len([v for v in out.get("Versions", []) if v["Key"] == key]),
        len([m for m in out.get("DeleteMarkers", []) if m["Key"] == key]),
    )


EXPIRE_ALL = {
    "ID": "expire",
    "Status": "Enabled",
    "Filter": {"Prefix": "old/"},
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
}
DROP_MARKERS = {
    "ID": "markers",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "Expiration": {"ExpiredObjectDeleteMarker": True},
}


def test_expiration_then_noncurrent_expiration_then_the_lone_marker_go_as_the_clock_moves(emulator):
    s3 = _bucket(emulator, [EXPIRE_ALL, DROP_MARKERS])
    s3.put_object(Bucket=BUCKET, Key="old/a", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="kept/b", Body=b"b")  # no rule with Expiration takes this prefix
    try:
        _days(emulator, 29)
        assert _exists(s3, "old/a")
        _days(emulator, 31)  # 30 days, rounded up to the next midnight UTC, have passed
        assert not _exists(s3, "old/a")
        assert _versions(s3, "old/a") == (1, 1)  # versioned: a delete marker, the data kept as noncurrent
        assert _exists(s3, "kept/b")
        _days(emulator, 50)
        assert _versions(s3, "old/a") == (1, 1)  # noncurrent for 19 days only
        _days(emulator, 62)
        assert _versions(s3, "old/a") == (0, 0)  # the version went, then its lone delete marker
        _days(emulator, 400)
        assert _exists(s3, "kept/b")
    finally:
        emulator.clear_faults()


def test_an_unversioned_bucket_loses_the_object_itself(emulator):
    s3 = _bucket(emulator, [EXPIRE_ALL], versioned=False)
    s3.put_object(Bucket=BUCKET, Key="old/a", Body=b"a")
    try:
        _days(emulator, 31)
        assert not _exists(s3, "old/a")
        assert _versions(s3, "old/a") == (0, 0)
    finally:
        emulator.clear_faults()


def test_a_tag_filter_takes_only_the_tagged_objects(emulator):
    rule = {"ID": "retired", "Status": "Enabled", "Filter": {"Tag": {"Key": "retired", "Value": "yes"}},
            "Expiration": {"Days": 1}}  # fmt: skip
    s3 = _bucket(emulator, [rule], versioned=False)
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"a", Tagging="retired=yes")
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"b", Tagging="retired=no")
    s3.put_object(Bucket=BUCKET, Key="c", Body=b"c")
    try:
        _days(emulator, 3)
        assert [_exists(s3, k) for k in "abc"] == [False, True, True]
    finally:
        emulator.clear_faults()


def test_a_disabled_rule_and_a_noncurrent_only_rule_leave_current_objects(emulator):
    noncurrent_only = {
        "ID": "noncurrent",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    }
    s3 = _bucket(emulator, [noncurrent_only, {**EXPIRE_ALL, "Status": "Disabled"}])
    s3.put_object(Bucket=BUCKET, Key="old/a", Body=b"1")
    s3.put_object(Bucket=BUCKET, Key="old/a", Body=b"2")  # version 1 is noncurrent from now on
    try:
        _days(emulator, 400)
        assert s3.get_object(Bucket=BUCKET, Key="old/a")["Body"].read() == b"2"
        assert _versions(s3, "old/a") == (1, 0)
    finally:
        emulator.clear_faults()


def test_an_object_put_while_the_clock_runs_ahead_is_young(emulator):
    s3 = _bucket(emulator, [EXPIRE_ALL])
    try:
        _days(emulator, 100)
        s3.put_object(Bucket=BUCKET, Key="old/late", Body=b"x")
        stamped = s3.head_object(Bucket=BUCKET, Key="old/late")["LastModified"].timestamp()
        assert stamped >= datetime.datetime.now(datetime.UTC).timestamp() + 99 * DAY
        _days(emulator, 120)
        assert _exists(s3, "old/late")
        _days(emulator, 132)
        assert not _exists(s3, "old/late")
    finally:
        emulator.clear_faults()


@pytest.mark.parametrize(
    ("created", "days", "expected"),
    [
        ("2014-01-15T10:30:00", 3, "2014-01-19T00:00:00"),  # the S3 user guide's own example
        ("2014-01-15T00:00:00", 1, "2014-01-17T00:00:00"),
    ],
)
def test_days_are_rounded_up_to_the_next_midnight_utc(created, days, expected):
    at = datetime.datetime.fromisoformat(created)
    assert due(at, days) == datetime.datetime.fromisoformat(expected).replace(tzinfo=datetime.UTC).timestamp()
