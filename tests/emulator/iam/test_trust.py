"""``trusts_service``: the one trust-policy reading Firehose and Lambda use to decide whether they may
assume a role (emulator/iam/trust.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.iam.trust import trusts_service

FIREHOSE = "firehose.amazonaws.com"


def _doc(effect: str = "Allow", service: Any = FIREHOSE, action: Any = "sts:AssumeRole") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Principal": {"Service": service}, "Action": action}],
    }


@pytest.mark.parametrize("as_json", [False, True], ids=["dict", "json"])
@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (_doc(), True),
        (_doc(effect="Deny"), False),
        (_doc(service=[FIREHOSE, "lambda.amazonaws.com"]), True),
        (_doc(service=["lambda.amazonaws.com"]), False),
        (_doc(service="lambda.amazonaws.com"), False),
        (_doc(action=["sts:TagSession", "sts:AssumeRole"]), True),
        (_doc(action="sts:*"), True),
        (_doc(action="*"), True),
        (_doc(action=["sts:TagSession"]), False),
        (_doc(action="sts:AssumeRoleWithSAML"), False),
        ({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}, True),
        ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}, False),
        ({"Statement": []}, False),
        ({}, False),
    ],
)
def test_trusts_service(doc: dict[str, Any], expected: bool, as_json: bool) -> None:
    assert trusts_service(json.dumps(doc) if as_json else doc, FIREHOSE) is expected


def test_other_service_is_not_trusted() -> None:
    assert trusts_service(_doc(), "lambda.amazonaws.com") is False
    assert trusts_service(_doc(service="lambda.amazonaws.com"), "lambda.amazonaws.com") is True


@pytest.mark.parametrize("document", ["not json", "[]", None, 42])
def test_unreadable_document_trusts_nobody(document: Any) -> None:
    assert trusts_service(document, FIREHOSE) is False
