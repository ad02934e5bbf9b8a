"""EventBridge Scheduler on the local AWS: expressions as Scheduler reads them, schedules fired on the local
AWS's clock (moved, not waited for) with their role checked and their input's context attributes filled in,
and AWS::Scheduler::Schedule in a stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from emulator.scheduler import models
from emulator.scheduler.expressions import InvalidExpression, due, validate
from emulator.testing import service_trust
from tests.cli.alarm_helpers import clock_to, next_firing
from tests.emulator.lambda_.helpers import create_function, make_zip
from tests.waiting import wait_for

PRINT_EVENT = (
    "import json\n\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n    return 1\n"
)
NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAILY = "cron(15 0 * * ? *)"
QUIET_S = 5 * 60  # longer than a test here runs


def test_expressions_fire_as_scheduler_reads_them():
    day = timedelta(days=1)
    assert list(due("cron(15 0 * * ? *)", "UTC", NOON, NOON, NOON + 2 * day)) == [
        datetime(2026, 12, 7, 0, 15, tzinfo=UTC),
        datetime(2026, 12, 8, 0, 15, tzinfo=UTC),
    ]
    weekdays = list(due("cron(0 9 ? * MON-FRI *)", "UTC", NOON, NOON, NOON + 7 * day))  # 2026-12-06: Sunday
    assert [t.strftime("%a") for t in weekdays] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert list(due("cron(0 1 * * ? *)", "Europe/Paris", NOON, NOON, NOON + day)) == [
        datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 01:00 in Paris, in winter
    ]
    assert list(due("rate(8 hours)", "UTC", NOON, NOON, NOON + day)) == [
        NOON + timedelta(hours=h) for h in (8, 16, 24)
    ]
    assert list(due("at(2026-12-06T18:30:00)", "UTC", NOON, NOON, NOON + day)) == [
        NOON + timedelta(hours=6.5)
    ]
    for bad in ("cron(15 0 * * *)", "cron(15 0 * * * *)", "cron(0 0 L * ? *)", "rate(0 days)", "every day"):
        with pytest.raises(InvalidExpression):
            validate(bad)
    with pytest.raises(InvalidExpression):
        validate("cron(15 0 * * ? *)", "Mars/Olympus")


def _scheduler_role(emu: Any, name: str, function_arn: str | None) -> str:
    iam = emu.client("iam")
    arn = str(
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(service_trust("scheduler.amazonaws.com"))
        )["Role"]["Arn"]
    )
    if function_arn:
        statement = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))
    return arn


def _next_quarter_past_midnight(emu: Any) -> datetime:
    """The first time of the tests' schedules once made: none falls due on its own while a test runs."""
    return next_firing(emu, DAILY, clear=QUIET_S)


def _events(emu: Any, function: str) -> list[dict[str, Any]]:
    logs = emu.client("logs")
    group = f"/aws/lambda/{function}"
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except ClientError:
        return []
    return [
        json.loads(e["message"].split("EVENT ", 1)[1])
        for s in streams
        for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]
        if "EVENT " in e["message"]
    ]


def _schedule(emu: Any, name: str, function_arn: str, role_arn: str, **extra: Any) -> str:
    return str(
        emu.client("scheduler").create_schedule(
            Name=name,
            ScheduleExpression=DAILY,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": function_arn,
                "RoleArn": role_arn,
                "Input": json.dumps(
                    {"at": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}
                ),
            },
            **extra,
        )["ScheduleArn"]
    )


def test_a_schedule_invokes_its_function_when_the_clock_passes_its_time(emulator):
    first = _next_quarter_past_midnight(emulator)
    fn = create_function(emulator, "tick", make_zip({"app.py": PRINT_EVENT}), role_policy=True)
    schedule = _schedule(
        emulator, "daily", fn["FunctionArn"], _scheduler_role(emulator, "sched", fn["FunctionArn"])
    )
    assert _events(emulator, "tick") == []  # nothing before its time
    clock_to(emulator, first + timedelta(days=1, minutes=1))  # two of its times fell due
    wait_for(lambda: len(_events(emulator, "tick")) == 2, timeout=60, what="two scheduled invocations")
    events = _events(emulator, "tick")
    stamps = [
        first.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (first + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    assert sorted(e["at"] for e in events) == stamps and {e["by"] for e in events} == {schedule}
    assert len([h for h in models.history() if h["schedule"] == schedule]) == 2  # each time once


def test_a_role_that_may_not_invoke_and_a_disabled_schedule_fire_nothing(emulator):
    first = _next_quarter_past_midnight(emulator)
    fn = create_function(emulator, "quiet", make_zip({"app.py": PRINT_EVENT}), role_policy=True)
    denied = _schedule(emulator, "no-invoke", fn["FunctionArn"], _scheduler_role(emulator, "weak", None))
    allowed = _scheduler_role(emulator, "strong", fn["FunctionArn"])
    disabled = _schedule(emulator, "off", fn["FunctionArn"], allowed, State="DISABLED")
    clock_to(emulator, first + timedelta(minutes=1))
    outcome = wait_for(
        lambda: [h["outcome"] for h in models.history() if h["schedule"] == denied], timeout=30
    )
    assert outcome == [f"role may not lambda:InvokeFunction on {fn['FunctionArn']}"]
    assert not [h for h in models.history() if h["schedule"] == disabled]
    assert _events(emulator, "quiet") == []


def test_a_bad_expression_is_refused(emulator):
    with pytest.raises(ClientError) as err:
        emulator.client("scheduler").create_schedule(
            Name="bad",
            ScheduleExpression="cron(15 0 * * *)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
            },
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_a_schedule_in_a_stack_is_created_updated_in_place_and_deleted(emulator):
    def template(expression: str) -> str:
        schedule = {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Name": "nightly",
                "ScheduleExpression": expression,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                },
            },
        }
        return json.dumps(
            {
                "Resources": {"Nightly": schedule},
                "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Nightly", "Arn"]}}},
            }
        )

    cfn, scheduler = emulator.client("cloudformation"), emulator.client("scheduler")
    cfn.create_stack(StackName="s", TemplateBody=template("cron(15 0 * * ? *)"))
    cfn.get_waiter("stack_create_complete").wait(StackName="s", WaiterConfig={"Delay": 1})
    got = scheduler.get_schedule(Name="nightly")
    assert got["ScheduleExpression"] == "cron(15 0 * * ? *)"
    outputs = cfn.describe_stacks(StackName="s")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == got["Arn"]
    cfn.update_stack(StackName="s", TemplateBody=template("cron(30 1 * * ? *)"))
    cfn.get_waiter("stack_update_complete").wait(StackName="s", WaiterConfig={"Delay": 1})
    again = scheduler.get_schedule(Name="nightly")
    assert again["ScheduleExpression"] == "cron(30 1 * * ? *)" and again["Arn"] == got["Arn"]
    cfn.update_stack(StackName="s", TemplateBody=template("cron(x)"))
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_update_complete").wait(
            StackName="s", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
    events = cfn.describe_stack_events(StackName="s")["StackEvents"]
    assert any("cron(x)" in str(e.get("ResourceStatusReason", "")) for e in events)
    cfn.delete_stack(StackName="s")
    cfn.get_waiter("stack_delete_complete").wait(StackName="s", WaiterConfig={"Delay": 1})
    with pytest.raises(ClientError):
        scheduler.get_schedule(Name="nightly")
