"""The retention schedule's drift CloudFormation does not see, repaired by deploy against the local AWS: a
schedule disabled by hand is shown by status and doctor, planned per property and re-enabled by deploy with
the template's whole definition (UpdateSchedule, once); one deleted by hand is made again by CreateSchedule
under the same name, which the stack still holds; one retargeted gets the template's target back. A second
deploy writes nothing; a refused repair fails the deploy and leaves the schedule as it was, for the next
one."""

from __future__ import annotations

from typing import Any

from tests.cli import retention_helpers as rh
from tests.deploy_helpers import config, deploy, doit, mutating

# What GetSchedule says of a schedule that is not its definition.
NOT_DEFINITION = ("Arn", "CreationDate", "LastModificationDate", "ResponseMetadata")


def _setup(emu: Any) -> tuple[Any, str, dict[str, Any]]:
    rh.next_run(emu)  # no run falls due by itself while the test runs
    deploy(emu, rh.RETENTION)
    cfg = config(emu, rh.RETENTION)
    name = cfg.retention_schedule_name
    return cfg, name, _definition(emu, name)


def _definition(emu: Any, name: str) -> dict[str, Any]:
    found = emu.client("scheduler").get_schedule(Name=name)
    return {k: v for k, v in found.items() if k not in NOT_DEFINITION}


def _by_hand(emu: Any, name: str, **changed: Any) -> None:
    """UpdateSchedule replaces the whole schedule: its settings as they are, with `changed`."""
    found = {k: v for k, v in _definition(emu, name).items() if v is not None}
    emu.client("scheduler").update_schedule(**{**found, **changed})


def _converged(emu: Any, tmp_path: Any) -> None:
    status = doit(emu, tmp_path, "status", *rh.ARGS)  # (the retention alarms wait for a run: not asserted)
    assert (
        "[ok   ] retention schedule: otlp2pipeline-local-retention: ENABLED, cron(15 0 * * ? *)"
        in status.stdout
    )
    assert "drift: " not in status.stdout, status.stdout
    emu.reset_calls()
    again = doit(emu, tmp_path, "deploy", *rh.ARGS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "retention_schedule: unchanged" in again.stdout, again.stdout
    assert mutating(emu) == {}


def test_a_schedule_disabled_by_hand_is_shown_planned_and_re_enabled_as_the_template_declares(
    emulator, tmp_path
):
    _cfg, name, before = _setup(emulator)
    assert before["State"] == "ENABLED" and before["Target"]["Arn"].endswith(
        ":function:otlp2pipeline-local-retention"
    )
    _by_hand(emulator, name, State="DISABLED")

    status = doit(emulator, tmp_path, "status", *rh.ARGS)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"[DRIFT] retention schedule: {name}: DISABLED, cron(15 0 * * ? *)" in status.stdout, status.stdout
    assert f"drift: update schedule {name} (disabled outside CloudFormation" in status.stdout
    assert "unhealthy: run `doit deploy env=local` to converge" in status.stdout
    doctor = doit(emulator, tmp_path, "doctor", *rh.ARGS)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert f"FAIL  schedule {name} is ENABLED" in doctor.stdout, doctor.stdout
    assert "aws scheduler" not in doctor.stdout and "`doit deploy env=local " in doctor.stdout

    plan = doit(emulator, tmp_path, "plan", *rh.ARGS)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"retention_schedule: update schedule {name} (disabled outside CloudFormation" in plan.stdout
    assert "    State: DISABLED -> ENABLED" in plan.stdout, plan.stdout
    assert "1 change(s)" in plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert mutating(emulator) == {"scheduler:UpdateSchedule": 1}
    assert f"schedule {name}: State restored as the stack's template declares it" in deployed.stdout
    assert _definition(emulator, name) == before
    _converged(emulator, tmp_path)


def test_a_schedule_deleted_by_hand_is_made_again_under_the_name_the_stack_holds(emulator, tmp_path):
    cfg, name, before = _setup(emulator)
    emulator.client("scheduler").delete_schedule(Name=name)

    plan = doit(emulator, tmp_path, "plan", *rh.ARGS)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"retention_schedule: create schedule {name} (deleted outside CloudFormation" in plan.stdout
    assert "    ScheduleExpression: null -> cron(15 0 * * ? *)" in plan.stdout, plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert mutating(emulator) == {"scheduler:CreateSchedule": 1}
    assert _definition(emulator, name) == before
    held = emulator.client("cloudformation").describe_stack_resource(
        StackName=cfg.stack_name, LogicalResourceId="RetentionSchedule"
    )["StackResourceDetail"]
    assert held["PhysicalResourceId"] == name
    _converged(emulator, tmp_path)


def test_a_schedule_retargeted_by_hand_gets_the_templates_target_and_expression_back(emulator, tmp_path):
    _cfg, name, before = _setup(emulator)
    elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:elsewhere"
    _by_hand(
        emulator, name, Target={**before["Target"], "Arn": elsewhere}, ScheduleExpression="cron(0 12 * * ? *)"
    )

    plan = doit(emulator, tmp_path, "plan", *rh.ARGS)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"retention_schedule: update schedule {name} (retargeted outside CloudFormation" in plan.stdout
    assert f"    Target.Arn: {elsewhere} -> {before['Target']['Arn']}" in plan.stdout, plan.stdout
    assert "    ScheduleExpression: cron(0 12 * * ? *) -> cron(15 0 * * ? *)" in plan.stdout

    emulator.reset_calls()
    deployed = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert mutating(emulator) == {"scheduler:UpdateSchedule": 1}
    assert _definition(emulator, name) == before
    _converged(emulator, tmp_path)


def test_a_refused_repair_fails_the_deploy_and_the_next_deploy_makes_it(emulator, tmp_path):
    _cfg, name, before = _setup(emulator)
    _by_hand(emulator, name, State="DISABLED")
    emulator.set_faults(
        {"fail_mutating_call": {"number": 1, "error_code": "ValidationException", "status": 400}}
    )
    failed = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert failed.returncode == 1, failed.stdout + failed.stderr  # a deploy step failed (tasks/errors.py)
    assert (
        "deploy:retention_schedule failed: error: UpdateSchedule failed: ValidationException" in failed.stderr
    )
    assert _definition(emulator, name)["State"] == "DISABLED"  # nothing half-written
    emulator.set_faults({})
    emulator.reset_calls()
    again = doit(emulator, tmp_path, "deploy", *rh.ARGS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert mutating(emulator) == {"scheduler:UpdateSchedule": 1}
    assert _definition(emulator, name) == before
