"""The ``AWS/Lambda`` metrics of one invocation, per function (dimension ``FunctionName``), as the Lambda
developer guide lists them ("Types of metrics for Lambda functions"): ``Invocations`` 1 and ``Errors`` 1
or 0 for an invocation that ran ("invocation metrics are binary indicators of the outcome"), ``Duration``
its milliseconds, and ``Throttles`` 1 for a request refused for concurrency (which is no invocation).
Stamped when the invocation started, on the local AWS's clock, as Lambda stamps them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.cloudwatch import metrics

NAMESPACE = "AWS/Lambda"


def invoked(
    account_id: str, region: str, name: str, started: float, duration_ms: float, failed: bool
) -> None:
    metrics.put(
        account_id,
        region,
        NAMESPACE,
        {"FunctionName": name},
        {
            "Invocations": (1, "Count"),
            "Errors": (1 if failed else 0, "Count"),
            "Duration": (duration_ms, "Milliseconds"),
        },
        datetime.fromtimestamp(started, UTC).replace(tzinfo=None),
    )


def throttled(account_id: str, region: str, name: str, started: float) -> None:
    metrics.put(
        account_id,
        region,
        NAMESPACE,
        {"FunctionName": name},
        {"Throttles": (1, "Count")},
        datetime.fromtimestamp(started, UTC).replace(tzinfo=None),
    )
