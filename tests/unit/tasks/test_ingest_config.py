"""The ingest.* settings are validated like every other setting (one line naming value and rule)."""

from __future__ import annotations

import pytest

from tasks.config import load
from tasks.errors import UserError


def test_ingest_defaults():
    ing = load("local").ingest
    assert (ing.port, ing.max_body_mb, ing.token, ing.sender_deadline_seconds) == (4318, 6, None, 30)
    assert "token" not in repr(ing)  # a secret never reaches a repr or a log line
    assert ing.max_rows == 50_000
    assert load("local", {"ingest.max_rows": "40"}).ingest.max_rows == 40


def test_ingest_overrides_are_read_and_kept():
    ing = load(
        "local",
        {
            "ingest.port": "4319",
            "ingest.max_body_mb": "12",
            "ingest.token": "a-valid_token.0123456789~",
            "ingest.sender_deadline_seconds": "5",
        },
    ).ingest
    assert (ing.port, ing.max_body_mb, ing.token, ing.sender_deadline_seconds) == (
        4319,
        12,
        "a-valid_token.0123456789~",
        5,
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ingest.port", "0", "ingest.port=0 is out of range: must be an integer from 1 to 65535"),
        ("ingest.port", "http", "ingest.port='http' is invalid"),
        (
            "ingest.max_body_mb",
            "65",
            "ingest.max_body_mb=65 is out of range: must be an integer from 1 to 64",
        ),
        ("ingest.sender_deadline_seconds", "0", "ingest.sender_deadline_seconds=0 is out of range"),
        ("ingest.max_rows", "0", "ingest.max_rows=0 is out of range: must be an integer from 1 to 1000000"),
        ("ingest.max_rows", "many", "ingest.max_rows='many' is invalid"),
        ("ingest.token", "short", "ingest.token is invalid: must be 16-512 characters"),
        ("ingest.token", "has spaces in it, sadly", "ingest.token is invalid"),
        ("ingest.nope", "1", "unknown setting ingest.nope=1"),
    ],
)
def test_bad_ingest_settings_name_the_value_and_the_rule(key, value, message):
    with pytest.raises(UserError) as err:
        load("local", {key: value})
    text = str(err.value)
    assert message in text and "\n" not in text
    assert "short" not in text or key != "ingest.token"  # the bad token itself is not echoed
