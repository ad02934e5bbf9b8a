"""Alarm drift CloudFormation does not see, repaired by deploy against the local AWS: an alarm deleted out of
band is put back by name with exactly the properties the stack's template gives it, one retargeted by hand
gets its actions back (PutMetricAlarm with the whole definition, once per alarm), and an alarm in ALARM is
shown by status, plan and deploy but is not a change: deploy neither writes nor fails for it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cli.alarm_helpers import clock_now, next_minute, states
from tests.deploy_helpers import config, deploy, doit, mutating

SIGNAL = "logs"
# What DescribeAlarms says of an alarm's configuration (its state and timestamps are not configuration).
CONFIGURATION = (
    "AlarmName",
    "AlarmArn",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "Dimensions",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def _setup(emu: Any) -> tuple[tuple[str, ...], Any, str]:
    topic = emu.client("sns").create_topic(Name="ops")["TopicArn"]
    overrides = {"ingest.enabled": "false", "signals": SIGNAL, "alarms.topic_arn": topic}
    args = ("env=local", "ingest.enabled=false", f"signals={SIGNAL}", f"alarms.topic_arn={topic}")
    deploy(emu, overrides)
    return args, config(emu, overrides), topic


def _alarm(emu: Any, name: str) -> dict[str, Any]:
    (alarm,) = emu.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarm)


def _configuration(emu: Any, name: str) -> dict[str, Any]:
    alarm = _alarm(emu, name)
    tags = emu.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    return {**{k: alarm.get(k) for k in CONFIGURATION}, "Tags": sorted((t["Key"], t["Value"]) for t in tags)}


def test_an_alarm_deleted_out_of_band_is_put_back_as_the_template_declares_it(emulator, tmp_path):
    args, cfg, topic = _setup(emulator)
    name = cfg.alarm_name(SIGNAL, "records-to-error-bucket")
    before = _configuration(emulator, name)
    assert before["AlarmActions"] == [topic] and before["Tags"], before
    emulator.client("cloudwatch").delete_alarms(AlarmNames=[name])
    # CloudFormation is not told: the stack still holds the alarm's resource, by its name.
    cfn = emulator.client("cloudformation")
    stack = cfn.describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    lid = f"{SIGNAL.capitalize()}RecordsToErrorBucketAlarm"
    held = cfn.describe_stack_resource(StackName=cfg.stack_name, LogicalResourceId=lid)
    assert held["StackResourceDetail"]["PhysicalResourceId"] == name

    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "[DRIFT] alarms: 2 of 3" in status.stdout and f"  {name}: missing" in status.stdout
    assert f"drift: create alarm {name}" in status.stdout
    assert "unhealthy: run `doit deploy env=local` to converge" in status.stdout

    plan = doit(emulator, tmp_path, "plan", *args)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"alarms: create alarm {name} (missing: the stack's template declares it)" in plan.stdout
    assert f'    AlarmActions: null -> ["{topic}"]' in plan.stdout
    assert "    MetricName: null -> DeliveryToIceberg.FailedRowCount" in plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *args)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert mutating(emulator) == {"cloudwatch:PutMetricAlarm": 1}
    assert f"alarm {name}: put back as the stack's template declares it" in deployed.stdout
    assert _configuration(emulator, name) == before

    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 0, status.stdout + status.stderr
    emulator.reset_calls()
    again = doit(emulator, tmp_path, "deploy", *args)
    assert again.returncode == 0 and "alarms: unchanged" in again.stdout, again.stdout + again.stderr
    assert mutating(emulator) == {}


def test_an_alarm_retargeted_by_hand_gets_its_actions_back(emulator, tmp_path):
    args, cfg, topic = _setup(emulator)
    name = cfg.alarm_name(SIGNAL, "delivery-failing")
    before = _configuration(emulator, name)
    elsewhere = emulator.client("sns").create_topic(Name="elsewhere")["TopicArn"]
    alarm = _alarm(emulator, name)
    by_hand = {k: alarm[k] for k in CONFIGURATION if k in alarm and k != "AlarmArn"}
    by_hand.update(AlarmActions=[elsewhere], OKActions=[])
    emulator.client("cloudwatch").put_metric_alarm(**by_hand)

    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"drift: update alarm {name}" in status.stdout

    plan = doit(emulator, tmp_path, "plan", *args)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"alarms: update alarm {name}" in plan.stdout
    assert f'    AlarmActions: ["{elsewhere}"] -> ["{topic}"]' in plan.stdout
    assert f'    OKActions: [] -> ["{topic}"]' in plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *args)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert mutating(emulator) == {"cloudwatch:PutMetricAlarm": 1}
    assert _configuration(emulator, name) == before
    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 0, status.stdout + status.stderr


def test_an_alarm_in_alarm_is_shown_but_deploy_neither_writes_nor_fails(emulator, tmp_path):
    """Records to the error bucket in every minute of the next ten: the alarm is in ALARM for the test."""
    args, cfg, _topic = _setup(emulator)
    name = cfg.alarm_name(SIGNAL, "records-to-error-bucket")
    now = datetime.fromtimestamp(clock_now(emulator), UTC)
    emulator.client("cloudwatch").put_metric_data(
        Namespace="AWS/Firehose",
        MetricData=[
            {
                "MetricName": "DeliveryToIceberg.FailedRowCount",
                "Dimensions": [{"Name": "DeliveryStreamName", "Value": cfg.stream_name(SIGNAL)}],
                "Timestamp": now + timedelta(minutes=m),
                "Value": 1.0,
            }
            for m in range(11)
        ],
    )
    next_minute(emulator)
    assert states(emulator, cfg.alarm_prefix)[name] == "ALARM"

    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"alert: alarm {name} in ALARM since " in status.stdout
    assert "[ALERT] alarms: 3 of 3" in status.stdout
    assert "\nunhealthy: `doit doctor env=local` names the cause and the fix of an alarm\n" in status.stdout

    plan = doit(emulator, tmp_path, "plan", *args)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"alarms: alert (deploy does not change it): alarm {name} in ALARM" in plan.stdout
    assert "StateValue" not in plan.stdout and plan.stdout.rstrip().endswith("no changes"), plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *args)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "alarms: unchanged" in deployed.stdout
    assert mutating(emulator) == {}
    assert states(emulator, cfg.alarm_prefix)[name] == "ALARM"


def test_a_config_change_of_the_alarms_is_planned_once_as_the_stacks_update_not_as_drift(emulator, tmp_path):
    """alarms.topic_arn changed in the config: the stack's update changes every alarm's actions. The alarms
    step compares the live alarms with the template the stack holds, so plan lists that change once, under
    the stack, and deploy then makes it with no PutMetricAlarm of its own."""
    args, cfg, _ = _setup(emulator)
    other = emulator.client("sns").create_topic(Name="oncall")["TopicArn"]
    changed = (*args[:-1], f"alarms.topic_arn={other}")
    name = cfg.alarm_name(SIGNAL, "records-to-error-bucket")

    plan = doit(emulator, tmp_path, "plan", *changed)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert re.search(
        r"alarms: note: the stack's update is to change or add \d+ alarm\(s\) \(.*" + name, plan.stdout
    )
    assert not re.search(r"^alarms: (update|create)", plan.stdout, re.M), plan.stdout
    assert "notifies elsewhere" not in plan.stdout, plan.stdout
    assert "AWS::CloudWatch::Alarm" in plan.stdout and other in plan.stdout, plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *changed)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert emulator.call_count("cloudwatch", "PutMetricAlarm") == 0  # the stack's update made the change
    assert _alarm(emulator, name)["AlarmActions"] == [other]
    status = doit(emulator, tmp_path, "status", *changed)
    assert status.returncode == 0, status.stdout + status.stderr
