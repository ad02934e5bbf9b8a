"""The stack's alarms against the local AWS: a broken delivery puts its stream's alarms in ALARM, `doit
status` exits 1 and shows them, `doit doctor` names the cause and the fix; `doit deploy` repairs it, records
land, and the alarms are OK again. The clock is moved a minute at a time (tests/cli/alarm_helpers.py)."""

from __future__ import annotations

import io
import json

from tasks import doctor
from tasks import send as sender
from tasks.aws import Clients
from tests.cli import verify_helpers as vh
from tests.cli.alarm_helpers import next_minute, states
from tests.deploy_helpers import config, deploy, doit, run

SIGNALS = "logs,traces"
ARGS = ("env=local", "ingest.enabled=false", f"signals={SIGNALS}")


def _queue_on_topic(emu, name: str) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed (raw delivery): (topic ARN, queue URL)."""
    sns, sqs = emu.client("sns"), emu.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, queue


def _notifications(emu, queue: str) -> list[tuple[str, str]]:
    got = emu.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return sorted((json.loads(m["Body"])["AlarmName"], json.loads(m["Body"])["NewStateValue"]) for m in got)


def test_a_revoked_grant_alarms_status_and_doctor_name_it_and_deploy_repairs_it(emulator, tmp_path):
    topic, queue = _queue_on_topic(emulator, "ops")
    overrides = {"ingest.enabled": "false", "signals": SIGNALS, "alarms.topic_arn": topic}
    args = (*ARGS, f"alarms.topic_arn={topic}")
    cfg = config(emulator, overrides)
    deploy(emulator, overrides)
    failing = cfg.alarm_name("logs", "delivery-failing")
    to_errors = cfg.alarm_name("logs", "records-to-error-bucket")
    assert set(states(emulator, cfg.alarm_prefix).values()) == {"OK"}
    emulator.client("sqs").purge_queue(QueueUrl=queue)  # the OK of each new alarm's first evaluation

    next_minute(emulator)
    vh.revoke_table_grant(emulator, cfg, "logs")
    sender.send(Clients(cfg), cfg, ["logs"], 3)
    emulator.flush()
    next_minute(emulator)  # the minute with the failed delivery is evaluated

    now = states(emulator, cfg.alarm_prefix)
    assert {n for n, s in now.items() if s == "ALARM"} == {failing, to_errors}, now
    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"{to_errors}: ALARM since " in status.stdout
    assert "was greater than the threshold (0.0)" in status.stdout
    assert f"{cfg.alarm_name('traces', 'records-to-error-bucket')}: OK" in status.stdout
    assert f"notify SNS topic {topic}" in status.stdout
    assert "`doit doctor env=local` names the cause and the fix of an alarm" in status.stdout

    doctor = doit(emulator, tmp_path, "doctor", *args)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    section = doctor.stdout[doctor.stdout.index("CloudWatch alarms") :]
    lines = section.splitlines()
    at = lines.index(f"  FAIL  alarm {to_errors} is not in ALARM")
    assert (
        "cause: LakeFormation Permissions" in lines[at + 1]
        and "grant missing: ALL on table default.logs" in lines[at + 1]
    )
    fix = f"doit deploy env=local alarms.topic_arn={topic} ingest.enabled=false signals={SIGNALS}"
    assert lines[at + 2].strip() == f"fix:   {fix}", section
    assert f"  OK    alarm {cfg.alarm_name('traces', 'delivery-failing')} is OK" in section
    assert _notifications(emulator, queue) == sorted([(failing, "ALARM"), (to_errors, "ALARM")])

    deploy(emulator, overrides)  # the grant is back
    sender.send(Clients(cfg), cfg, ["logs"], 3)
    emulator.flush()
    next_minute(emulator)

    assert set(states(emulator, cfg.alarm_prefix).values()) == {"OK"}
    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"{to_errors}: OK" in status.stdout and status.stdout.rstrip().splitlines()[-2] == "healthy"
    doctor = doit(emulator, tmp_path, "doctor", *args)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"OK    alarm {to_errors} is OK" in doctor.stdout
    assert _notifications(emulator, queue) == sorted([(failing, "OK"), (to_errors, "OK")])
    history = emulator.client("cloudwatch").describe_alarm_history(
        AlarmName=to_errors, HistoryItemType="StateUpdate"
    )
    assert [h["HistorySummary"] for h in history["AlarmHistoryItems"]][:2] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
    ]


def test_the_freshness_threshold_follows_the_buffering_interval_unless_pinned(emulator):
    """alarms.freshness_seconds null: the buffering interval + 300 s, so a buffering change also updates the
    stack's data-stale alarms, which plan names; pinned, the stack stays as it is."""
    overrides = {"ingest.enabled": "false", "signals": SIGNALS}
    deploy(emulator, overrides)
    moved = {**overrides, "firehose.buffering_interval_seconds": "30"}
    (stack,) = [r.diff.changes for r in run(emulator, moved).plan() if r.name == "stack"]
    resources = {c.resource: (c.action, set(c.fields)) for c in stack[1:]}
    assert stack[0].resource == "cloudformation stack otlp2pipeline-local" and not stack[0].fields
    assert resources == {
        f"AWS::CloudWatch::Alarm {lid}": (
            "update",
            {f"{lid}.Properties.Threshold", f"{lid}.Properties.AlarmDescription"},
        )
        for lid in ("LogsDataStaleAlarm", "TracesDataStaleAlarm")
    }
    pinned = {**moved, "alarms.freshness_seconds": "300"}
    (stack,) = [r.diff.changes for r in run(emulator, pinned).plan() if r.name == "stack"]
    assert stack == []


def test_records_waiting_in_retries_make_the_data_stale_and_the_delivery_failing_alarms(emulator):
    """With Firehose retrying (a retry window longer than the test), nothing reaches the error bucket: the
    delivery-failing alarm fires at once, data-stale once the waiting records are older than its
    threshold, and doctor names the revoked grant from the attempts Firehose logged. Repaired, the waiting
    records land (still stale in that minute), and fresh ones make both alarms OK."""
    overrides = {
        "ingest.enabled": "false",
        "signals": "logs",
        "firehose.retry_duration_seconds": "3600",
        "alarms.freshness_seconds": "60",
    }
    cfg = config(emulator, overrides)
    deploy(emulator, overrides)
    failing, stale = cfg.alarm_name("logs", "delivery-failing"), cfg.alarm_name("logs", "data-stale")
    to_errors = cfg.alarm_name("logs", "records-to-error-bucket")

    next_minute(emulator)
    vh.revoke_table_grant(emulator, cfg, "logs")
    sender.send(Clients(cfg), cfg, ["logs"], 3)
    emulator.flush()  # a failed attempt: retried, not sent to the error bucket
    next_minute(emulator)
    assert {n for n, s in states(emulator, cfg.alarm_prefix).items() if s == "ALARM"} == {failing}

    next_minute(emulator)  # the records wait on; the next attempt finds them a minute old and more
    emulator.flush()
    next_minute(emulator)
    now = states(emulator, cfg.alarm_prefix)
    assert (now[failing], now[stale], now[to_errors]) == ("ALARM", "ALARM", "OK"), now
    (finding,) = [
        f for f in _doctor_findings(emulator, cfg, overrides) if f.cause == f"alarm {stale} is not in ALARM"
    ]
    assert "grant missing: ALL on table default.logs" in finding.found, finding.found

    deploy(emulator, overrides)
    emulator.flush()  # the waiting records land, stale as they are
    next_minute(emulator)
    assert states(emulator, cfg.alarm_prefix)[stale] == "ALARM"
    sender.send(Clients(cfg), cfg, ["logs"], 3)
    emulator.flush()
    next_minute(emulator)
    assert set(states(emulator, cfg.alarm_prefix).values()) == {"OK"}


def _doctor_findings(emu, cfg, overrides):
    return doctor.run(cfg, {**overrides, "endpoint": emu.endpoint}, io.StringIO())
