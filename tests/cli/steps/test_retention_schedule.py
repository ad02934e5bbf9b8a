"""The retention function on the local AWS: its schedule runs it on the local AWS's clock (moved a day, not
waited for), with its role judged on every call; a run that fails (the role lost a permission) puts the
retention alarm in ALARM, `doit status` and `doit doctor` name it and its fix, and after `doit deploy`
restored the role and a run succeeded the alarm is OK again."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.cli import retention_helpers as rh
from tests.cli.alarm_helpers import clock_to, next_minute, states
from tests.deploy_helpers import config, deploy, doit
from tests.waiting import wait_for

HOUR = 3600
MINUTE = timedelta(minutes=1)


def _log(emu, cfg) -> str:
    logs = emu.client("logs")
    group = f"/aws/lambda/{cfg.retention_function_name}"
    streams = logs.describe_log_streams(logGroupName=group).get("logStreams", [])
    return "\n".join(
        e["message"]
        for s in streams
        for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]
    )


def _outputs(emu, cfg) -> dict[str, str]:
    stack = emu.client("cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_the_schedule_runs_the_function_on_the_local_aws_clock_and_destroy_takes_both(emulator, tmp_path):
    scheduled = rh.next_run(emulator)  # the schedule's one run here: the clock moves just past it
    deploy(emulator, rh.RETENTION)
    cfg = config(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 40, per_day=2, today=(scheduled - timedelta(days=1)).date())
    clock_to(emulator, scheduled + MINUTE)
    cutoff = (scheduled - timedelta(days=30)).date()  # the run's "now" is its scheduled time
    want = {d: n for d, n in written.items() if d >= cutoff}
    wait_for(lambda: rh.rows_by_day(rh.table(emulator)) == want, timeout=180, what="the scheduled run")
    log = _log(emulator, cfg)
    stamp = scheduled.strftime("%Y-%m-%d %H:%M:%S")
    assert f"retention env=local at {stamp} UTC: succeeded: dropped 10 day(s), 20 rows" in log, log
    assert f"logs (window 30 days, keeps {cutoff} on): dropped " in log
    next_minute(emulator)
    assert states(emulator, cfg.alarm_name("retention", "")) == {
        cfg.alarm_name("retention", "failed"): "OK",
        cfg.alarm_name("retention", "missing"): "OK",
    }

    gone = doit(emulator, tmp_path, "destroy", *rh.ARGS, "force=1")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert f"with the retention function {cfg.retention_function_name} and its daily schedule" in gone.stdout
    assert emulator.client("scheduler").list_schedules()["Schedules"] == []


def test_a_failed_run_alarms_and_status_doctor_and_deploy_then_a_run_repair_it(emulator, tmp_path):
    # The schedule's one run here, two hours away at least: the deploy's run (which succeeds) is out of the
    # retention-failed alarm's hour by then.
    scheduled = rh.next_run(emulator, clear=2 * HOUR)
    deploy(emulator, rh.RETENTION)
    cfg = config(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 35, per_day=1)
    failed, missing = cfg.alarm_name("retention", "failed"), cfg.alarm_name("retention", "missing")
    iam = emulator.client("iam")
    role = _outputs(emulator, cfg)["RetentionFunctionRoleName"]
    policy = iam.get_role_policy(RoleName=role, PolicyName="retention-function")["PolicyDocument"]
    for statement in policy["Statement"]:  # the role loses the commit: the delete cannot land
        if statement.get("Sid") == "DropDaysOfItsTables":
            statement["Action"].remove("s3tables:UpdateTableMetadataLocation")
    iam.put_role_policy(RoleName=role, PolicyName="retention-function", PolicyDocument=json.dumps(policy))

    clock_to(emulator, scheduled + MINUTE)
    wait_for(lambda: "FAILED" in _log(emulator, cfg), timeout=180, what="the scheduled run to fail")
    log = _log(emulator, cfg)
    assert "logs (window 30 days, keeps" in log and "ForbiddenException" in log, log
    assert "is not authorized to perform: s3tables:UpdateTableMetadataLocation" in log
    assert rh.rows_by_day(rh.table(emulator)) == written  # nothing was dropped
    next_minute(emulator)
    assert states(emulator, cfg.alarm_name("retention", "")) == {failed: "ALARM", missing: "OK"}

    status = doit(emulator, tmp_path, "status", *rh.ARGS)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"{failed}: ALARM since " in status.stdout and f"{missing}: OK" in status.stdout
    assert "retention runs: last run " in status.stdout and ": FAILED" in status.stdout
    assert "(statement(s) DropDaysOfItsTables differ from the template, changed outside" in status.stdout
    doctor = doit(emulator, tmp_path, "doctor", *rh.ARGS)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "FAIL  retention function role's inline IAM policy is the stack template's" in doctor.stdout
    assert "not allowed s3tables:UpdateTableMetadataLocation on arn:aws:s3tables:" in doctor.stdout
    alarm = doctor.stdout.split(f"FAIL  alarm {failed} is not in ALARM")[1]
    assert "cause: Retention (the stack's retention function" in alarm
    assert "fix:   doit deploy env=local" in alarm.splitlines()[2]

    repaired = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "retention_role: updated" in repaired.stdout
    rerun = doit(emulator, tmp_path, "retention", *rh.ARGS)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert ": dropped " in rerun.stdout
    next_minute(emulator)
    assert states(emulator, cfg.alarm_name("retention", "")) == {failed: "OK", missing: "OK"}
    status = doit(emulator, tmp_path, "status", *rh.ARGS)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"{failed}: OK" in status.stdout and ": succeeded, dropped " in status.stdout
    doctor = doit(emulator, tmp_path, "doctor", *rh.ARGS)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"OK    alarm {failed} is OK" in doctor.stdout
