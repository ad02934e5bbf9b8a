"""The artifacts bucket's lifecycle rules never expire a current zip, and a rule of someone else's that would
is named in a note (pure: desired rules, the comparison, the note)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.steps import artifacts_bucket as ab

WANT = ab.Desired("b", "arn:aws:s3:::b", "us-east-1", "123456789012", "local", "arn:logs", "arn:errors")
LEGACY = {
    "ID": ab.RULE_ID,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
}


def _observed(rules: list[dict[str, Any]]) -> ab.Observed:
    return ab.Observed(
        True,
        False,
        "AES256",
        dict(ab.PUBLIC_BLOCK),
        True,
        True,
        "Enabled",
        None,
        rules,
    )


def test_no_rule_of_ours_acts_on_a_current_zip():
    for rule in ab.lifecycle_rules():
        covers_code = ab.CODE_PREFIX.startswith(rule["Filter"]["Prefix"])
        assert not (covers_code and {"Days", "Date"} & set(rule.get("Expiration", {}))), rule
    assert ab.diff(WANT, _observed(ab.lifecycle_rules())).empty


def test_an_older_buckets_rule_is_replaced_by_ours():
    d = ab.diff(WANT, _observed([LEGACY]))
    (change,) = d.changes
    assert change.fields["Lifecycle"] == ([LEGACY], ab.lifecycle_rules())


@pytest.mark.parametrize(
    ("filt", "named"),
    [
        ({"Prefix": ""}, True),
        ({"Prefix": "ingest/local/"}, True),
        ({"Prefix": "in"}, True),
        ({"Prefix": "access-logs/"}, False),
        ({"Tag": {"Key": "retired", "Value": "yes"}}, False),  # the zips are put without tags
        ({"And": {"Prefix": "", "Tags": [{"Key": "k", "Value": "v"}]}}, False),
    ],
)
def test_someone_elses_rule_that_expires_code_is_named_in_a_note(filt, named):
    theirs = {"ID": "theirs", "Status": "Enabled", "Filter": filt, "Expiration": {"Days": 7}}
    d = ab.diff(WANT, _observed([*ab.lifecycle_rules(), theirs]))
    assert d.changes == []
    assert bool(d.notes) is named
    if named:
        assert "lifecycle rule 'theirs' expires current objects under ingest/" in d.notes[0]
