"""``trusts_service``: the one trust-policy reading Firehose and Lambda use to decide whether they may
assume a role (emulator/iam/policy.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.iam.policy import trusts_service

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


# -- conditions: evaluated for the context the service sends (Firehose: its account and stream) ------------
CONTEXT = {
    "sts:ExternalId": "123456789012",
    "aws:SourceAccount": "123456789012",
    "aws:SourceArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
}


def _with(condition: Any, effect: str = "Allow") -> dict[str, Any]:
    doc = _doc(effect=effect)
    doc["Statement"][0]["Condition"] = condition
    return doc


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"sts:ExternalId": "123456789012"}}, True),
        ({"StringEquals": {"sts:ExternalId": "999999999999"}}, False),
        ({"StringEquals": {"sts:ExternalId": ["1", "123456789012"]}}, True),
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:firehose:*:123456789012:deliverystream/*"}}, True),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/t"}}, False),
        ({"StringNotEquals": {"aws:SourceAccount": "123456789012"}}, False),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, False),  # a key the service does not send
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, True),
        ({"Null": {"aws:PrincipalOrgID": "true"}}, True),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "1"}}, False),  # unknown operator: never holds
        (
            {
                "StringEquals": {"sts:ExternalId": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:firehose:us-west-2:*"},
            },
            False,
        ),
    ],
)
def test_conditions_hold_only_for_what_the_service_sends(condition: Any, expected: bool) -> None:
    assert trusts_service(_with(condition), FIREHOSE, CONTEXT) is expected
    assert trusts_service(_with(condition), FIREHOSE) is True  # without a context, conditions are not read


def test_a_deny_with_holding_conditions_wins() -> None:
    doc = _doc()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Service": FIREHOSE},
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"aws:SourceAccount": "123456789012"}},
        }
    )
    assert trusts_service(doc, FIREHOSE, CONTEXT) is True
    assert trusts_service(doc, FIREHOSE, {**CONTEXT, "aws:SourceAccount": "999999999999"}) is False
