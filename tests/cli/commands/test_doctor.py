"""`doit doctor`: the error-code mapping, the fix commands, and each broken state against the emulator."""

from __future__ import annotations

import io
import json

import pytest

from tasks import doctor
from tasks.doctor import (
    ENTRY_APPEND_ONLY,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_GLUE_PERMISSIONS,
)
from tests.cli import verify_helpers as vh

# A stream's alarms watch 1 and 5 minute windows (tasks/alarms.py): six minutes after a failed delivery,
# both have fired and cleared.
ALARMS_CLEARED_S = 360


def test_fix_commands_repeat_the_settings_given_on_the_command_line(emulator):
    cfg = vh.local_config(emulator)
    assert doctor.deploy_command(cfg) == "doit deploy env=local"
    assert doctor.deploy_command(cfg, {"endpoint": "http://x:1", "env": "local"}, repair=True) == (
        "doit deploy env=local endpoint=http://x:1 repair=1"
    )


def test_bad_input_is_one_line_exit_2_and_no_aws_call(emulator):
    emulator.reset_calls()
    proc = vh.doit(emulator, "doctor", "env=local", "firehose.buffering_size_mb=0")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "firehose.buffering_size_mb" in errors[0], proc.stderr
    assert emulator.calls() == []


# -- against the emulator ----------------------------------------------------------------------------


def _doctor(emu):
    out = io.StringIO()
    findings = doctor.run(vh.local_config(emu), {"endpoint": emu.endpoint}, out)
    return findings, out.getvalue()


def test_doctor_passes_on_a_fresh_deploy_and_exits_0(emulator):
    vh.deploy(emulator)
    proc = vh.doit(emulator, "doctor", "env=local")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout and "all OK" in proc.stdout, proc.stdout
    # Read-only: doctor made no mutating call.
    emulator.reset_calls()
    _doctor(emulator)
    mutating = [c for c in emulator.calls() if not c["operation"].startswith(("Get", "List", "Describe"))]
    assert mutating == []


BROKEN = {
    "table_grant_revoked": (
        lambda emu, cfg: vh.revoke_table_grant(emu, cfg, "logs"),
        ENTRY_FIREHOSE_GRANTS,
        "grant missing: ALL on table default.logs",
    ),
    "trust_without_set_context": (
        lambda emu, cfg: vh.drop_set_context(emu),
        ENTRY_ASSUME_ROLE,
        "trust policy lacks sts:SetContext",
    ),
    "catalog_deleted": (
        lambda emu, cfg: vh.delete_catalog(emu),
        ENTRY_CATALOG_NOT_FOUND,
        "Glue catalog s3tablescatalog does not exist",
    ),
    "stream_append_only_false": (
        lambda emu, cfg: vh.recreate_stream_without_append_only(emu, cfg, "logs"),
        ENTRY_APPEND_ONLY,
        "stream otlp2pipeline-local-logs shows AppendOnly: false",
    ),
}


@pytest.mark.parametrize("state", list(BROKEN))
def test_doctor_names_the_cause_and_the_fix_then_deploy_repairs_it(emulator, state):
    breaker, entry, cause = BROKEN[state]
    cfg = vh.deploy(emulator)
    breaker(emulator, cfg)

    proc = vh.doit(emulator, "doctor", "env=local")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    section = out[out.index(entry) :]
    assert cause in section, out
    fix = f"fix:   doit deploy env=local endpoint={emulator.endpoint}"
    assert fix in section[section.index(cause) :].splitlines()[1], out

    vh.deploy(emulator)
    findings, text = _doctor(emulator)
    assert all(f.ok for f in findings), text


def test_a_refused_read_is_reported_as_a_finding(emulator, monkeypatch):
    from botocore.exceptions import ClientError

    from tasks.steps import lf_admins

    def refuse(ctx):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetDataLakeSettings"
        )

    monkeypatch.setattr(lf_admins, "observe", refuse)
    findings, text = _doctor(emulator)
    refused = [f for f in findings if "GetDataLakeSettings refused: AccessDeniedException" in f.found]
    assert refused and refused[0].entry == ENTRY_GLUE_PERMISSIONS, text
    assert "profile=NAME" in refused[0].fix
    assert any(f.entry == ENTRY_CATALOG_NOT_FOUND for f in findings), text  # later checks still ran


def test_doctor_shows_what_firehose_logged_without_counting_it_as_a_check(emulator):
    """The recent delivery errors come from the streams' CloudWatch Logs: shown with their troubleshooting
    entry, but not a failed check (they stay in the log after the fix)."""
    from tasks import send as sender
    from tasks.aws import Clients

    cfg = vh.deploy(emulator)
    _, text = _doctor(emulator)
    assert "Recent delivery errors" in text and f"{cfg.stream_name('logs')}: none" in text, text

    vh.revoke_table_grant(emulator, cfg, "logs")
    sender.send(Clients(cfg), cfg, ["logs"], 3)
    emulator.flush()
    findings, text = _doctor(emulator)
    code = "Iceberg.InsufficientLakeFormationPermissions"
    assert f"{cfg.stream_name('logs')}: errorCode {code} in 1 attempt(s) -> troubleshooting: " in text
    assert f"{cfg.stream_name('traces')}: none" in text, text

    vh.deploy(emulator)
    # The failed attempt puts the stream's alarms in ALARM from the next whole minute, records-to-error-bucket
    # for a minute and delivery-failing while its 5-minute window holds the attempt: the clock moves to where
    # both have fired and cleared, instead of doctor racing the minute boundary.
    emulator.set_faults({"clock": {"offset_seconds": ALARMS_CLEARED_S}})
    findings, text = _doctor(emulator)
    assert all(f.ok for f in findings), text  # the logged errors alone do not fail doctor
    assert code in text
    cloudwatch = emulator.client("cloudwatch")
    for cause in ("records-to-error-bucket", "delivery-failing"):
        name = cfg.alarm_name("logs", cause)
        history = cloudwatch.describe_alarm_history(
            AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
        )["AlarmHistoryItems"]
        states = [json.loads(h["HistoryData"])["newState"]["stateValue"] for h in history]
        assert states[-2:] == ["ALARM", "OK"], (cause, history)
