"""Retention's wiring on the local AWS: `pytest verify/ --env local` finds the schedule, the function and its
role wired and a dry run of the function working, and names the schedule once it is disabled; a disabled
schedule runs nothing, so a day later the retention-missing alarm is in ALARM, `doit status` exits 1 and
`doit doctor` names the disabled schedule and `doit deploy` as its fix; once deploy put it back and a run
succeeded, the alarm is OK."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tasks import config as config_mod
from tests.cli import retention_helpers as rh
from tests.cli import verify_helpers as vh
from tests.cli.alarm_helpers import clock_now, next_minute, states
from tests.deploy_helpers import config, deploy, doit

HOUR = 3600


def _config_dir(tmp_path: Path) -> Path:
    return vh.config_dir(tmp_path, "signals: [logs]\ningest:\n  enabled: false\nretention_days: 30\n")


def _verify(emu: Any, root: Path) -> subprocess.CompletedProcess[str]:
    return vh.verify_in(emu, root, "verify/test_retention.py", "-rA", "-W", "always")


def _set_state(emu: Any, name: str, state: str) -> None:
    """UpdateSchedule replaces the whole schedule: its settings as they are, with `state`."""
    scheduler = emu.client("scheduler")
    found = scheduler.get_schedule(Name=name)
    keep = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target", "GroupName")
    scheduler.update_schedule(Name=name, State=state, **{k: found[k] for k in keep if k in found})


def test_verify_checks_the_schedule_and_the_function_are_wired(emulator, tmp_path, monkeypatch):
    root = _config_dir(tmp_path)
    monkeypatch.setenv(config_mod.CONFIG_DIR_VAR, str(root))
    deploy(emulator, {})
    rh.write_days(emulator, 35, per_day=1)
    cfg = config(emulator, {})
    assert cfg.retention_windows == {"logs": 30}

    proc = _verify(emulator, root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout, proc.stdout

    _set_state(emulator, cfg.retention_schedule_name, "DISABLED")
    proc = _verify(emulator, root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 3 passed" in proc.stdout, proc.stdout
    assert f"schedule {cfg.retention_schedule_name} is DISABLED" in proc.stdout, proc.stdout


def test_a_disabled_schedule_is_a_missing_run_that_alarms_and_doctor_names(emulator, tmp_path):
    rh.next_run(emulator)  # no run falls due by itself before the schedule is disabled
    deploy(emulator, rh.RETENTION)  # the new window's run at deploy: the last run that succeeded
    cfg = config(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 35, per_day=1)
    failed, missing = cfg.alarm_name("retention", "failed"), cfg.alarm_name("retention", "missing")
    name = cfg.retention_schedule_name
    _set_state(emulator, name, "DISABLED")

    # A day and more later (the clock moved, not waited for): no run in 26 hours.
    emulator.set_faults({"clock": {"offset_seconds": clock_now(emulator) - time.time() + 27 * HOUR}})
    next_minute(emulator)
    assert rh.rows_by_day(rh.table(emulator)) == written  # nothing ran: nothing was dropped
    assert states(emulator, cfg.alarm_name("retention", "")) == {failed: "OK", missing: "ALARM"}

    status = doit(emulator, tmp_path, "status", *rh.ARGS)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"{missing}: ALARM since " in status.stdout, status.stdout
    doctor = doit(emulator, tmp_path, "doctor", *rh.ARGS)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert f"FAIL  schedule {name} is ENABLED" in doctor.stdout, doctor.stdout
    alarm = doctor.stdout.split(f"FAIL  alarm {missing} is not in ALARM")[1]
    assert f"schedule {name} is ENABLED: State=DISABLED" in alarm, alarm
    assert "fix:   doit deploy env=local ingest.enabled=false retention_days=30 signals=logs" in alarm, alarm
    assert "aws scheduler" not in doctor.stdout  # no hand-made command: deploy puts the schedule back

    fixed = doit(emulator, tmp_path, "deploy", *rh.ARGS)  # the fix doctor names
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert emulator.client("scheduler").get_schedule(Name=name)["State"] == "ENABLED"
    rerun = doit(emulator, tmp_path, "retention", *rh.ARGS)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    next_minute(emulator)
    assert states(emulator, cfg.alarm_name("retention", "")) == {failed: "OK", missing: "OK"}
    doctor = doit(emulator, tmp_path, "doctor", *rh.ARGS)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"OK    alarm {missing} is OK" in doctor.stdout
