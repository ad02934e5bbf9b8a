"""The local Lambda publishes AWS/Lambda metrics per function as the Lambda guide lists them: Invocations
and Errors (1 or 0) and Duration for each invocation that ran, Throttles for one refused for concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.lambda_.helpers import ECHO, create_function, make_zip


def _sums(emu: Any, name: str) -> dict[str, float]:
    cw = emu.client("cloudwatch")
    now = datetime.now(UTC)
    out = {}
    for metric in ("Invocations", "Errors", "Throttles", "Duration"):
        points = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
            Period=600,
            Statistics=["Sum"],
        )["Datapoints"]
        out[metric] = sum(p["Sum"] for p in points)
    return out


def test_invocations_errors_duration_and_throttles_per_function(emulator: Any) -> None:
    lam = emulator.client("lambda", retries={"mode": "standard", "total_max_attempts": 1})
    create_function(emulator, "ok", make_zip({"app.py": ECHO}))
    create_function(
        emulator, "bad", make_zip({"app.py": "def handler(event, context):\n    raise ValueError('no')\n"})
    )
    lam.invoke(FunctionName="ok")
    lam.invoke(FunctionName="ok")
    assert lam.invoke(FunctionName="bad")["FunctionError"] == "Unhandled"
    lam.put_function_concurrency(FunctionName="ok", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError):
        lam.invoke(FunctionName="ok")

    ok, bad = _sums(emulator, "ok"), _sums(emulator, "bad")
    assert (ok["Invocations"], ok["Errors"], ok["Throttles"]) == (2, 0, 1)  # a throttle is no invocation
    assert (bad["Invocations"], bad["Errors"], bad["Throttles"]) == (1, 1, 0)
    assert ok["Duration"] > 0 and bad["Duration"] > 0


def test_a_slow_invocation_puts_a_duration_alarm_in_alarm(emulator: Any) -> None:
    """The ingest function's near-timeout alarm, on a function of its own: Duration Maximum over half the
    timeout (3 s) goes to ALARM in the minute of the slow invocation, and back to OK after a fast one."""
    from tests.cli.alarm_helpers import next_minute, states

    sleepy = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('s', 0))\n    return 1\n"
    create_function(emulator, "slow", make_zip({"app.py": sleepy}), Timeout=3)
    cw, lam = emulator.client("cloudwatch"), emulator.client("lambda")
    cw.put_metric_alarm(
        AlarmName="slow-near-timeout",
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": "slow"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1500.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    next_minute(emulator)
    lam.invoke(FunctionName="slow", Payload=b'{"s": 1.7}')
    next_minute(emulator)
    assert states(emulator, "slow-") == {"slow-near-timeout": "ALARM"}
    lam.invoke(FunctionName="slow", Payload=b'{"s": 0}')
    next_minute(emulator)
    assert states(emulator, "slow-") == {"slow-near-timeout": "OK"}
