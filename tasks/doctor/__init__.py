"""`doit doctor`: checks, one by one, each cause the bash scripts' Troubleshooting lists, and prints the fix.

The troubleshooting entries and the Firehose error code -> entry mapping live here, in one place: verify/
names the same entry when a delivery fails. The questions "does it exist, does it differ" are answered by
the deploy steps' observe()/diff() (tasks/steps/); this module only adds what a doctor adds: which
entry a finding belongs to and the exact command that fixes it. Doctor never writes.

entries.py holds the entries, the error-code mapping and the fix commands; checks.py the checks; this
module runs them and prints. Everything is importable from `tasks.doctor`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

from tasks.aws import Clients
from tasks.config import Config
from tasks.doctor.checks import (
    ACCESS_DENIED,
    IAM_PROPAGATION_S,
    LF_SERVICE,
    STS_ACTIONS,
    Doctor,
    Evaluated,
    missing_actions,
    missing_sts_actions,
)
from tasks.doctor.entries import (
    ENTRY_APPEND_ONLY,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_FIREHOSE_ROLE_POLICY,
    ENTRY_GLUE_PERMISSIONS,
    ENTRY_RECORD_SHAPE,
    ENTRY_STACK,
    ERROR_CODE_ENTRIES,
    Finding,
    deploy_command,
    describe_codes,
    logged_errors,
    troubleshooting_entry,
)
from tasks.errors import emit
from tasks.step import Context

RECENT_MINUTES = 60


def recent_delivery_errors(ctx: Context, since: datetime) -> list[str]:
    """What Firehose logged per stream since `since`: what the checks above explain, seen from delivery.

    Shown, not counted as a check: errors logged before a fix stay in the log, and would fail a doctor run
    made right after the fix.
    """
    config = ctx.config
    lines = [
        f"\nRecent delivery errors (CloudWatch Logs {config.log_group_name}, last {RECENT_MINUTES} min; "
        "they stop once their cause is fixed)"
    ]
    for signal in config.signals:
        codes = logged_errors(ctx.clients.logs, config, signal, since)
        lines.append(f"  {config.stream_name(signal)}: {describe_codes(codes) or 'none'}")
    return lines


def run(config: Config, overrides: dict[str, str] | None = None, out: TextIO | None = None) -> list[Finding]:
    """Check every cause, print OK or the cause and its fix per entry; return the findings."""
    out = out or sys.stdout
    ctx = Context(config, Clients(config))
    doctor = Doctor(ctx, overrides)
    emit(f"doctor: env={config.env} account={ctx.account_id} region={config.region}", out)
    findings: list[Finding] = []
    entry = ""
    for finding in doctor.findings():
        if finding.entry != entry:
            entry = finding.entry
            emit(f"\n{entry}", out)
        for line in finding.lines():
            emit(line, out)
        findings.append(finding)
    for line in recent_delivery_errors(ctx, datetime.now(UTC) - timedelta(minutes=RECENT_MINUTES)):
        emit(line, out)
    bad = [f for f in findings if not f.ok]
    fixes = list(dict.fromkeys(f.fix for f in bad))
    summary = (
        f"\n{len(findings)} checks: all OK ({ctx.clients.counter.summary()})"
        if not bad
        else f"\n{len(bad)} of {len(findings)} checks failed; fix: " + " ; ".join(f"`{f}`" for f in fixes)
    )
    emit(summary, out)
    return findings


__all__ = [
    "ACCESS_DENIED",
    "ENTRY_APPEND_ONLY",
    "ENTRY_ASSUME_ROLE",
    "ENTRY_CATALOG_NOT_FOUND",
    "ENTRY_FIREHOSE_GRANTS",
    "ENTRY_FIREHOSE_ROLE_POLICY",
    "ENTRY_GLUE_PERMISSIONS",
    "ENTRY_RECORD_SHAPE",
    "ENTRY_STACK",
    "ERROR_CODE_ENTRIES",
    "IAM_PROPAGATION_S",
    "LF_SERVICE",
    "RECENT_MINUTES",
    "STS_ACTIONS",
    "Doctor",
    "Evaluated",
    "Finding",
    "deploy_command",
    "describe_codes",
    "logged_errors",
    "missing_actions",
    "missing_sts_actions",
    "recent_delivery_errors",
    "run",
    "troubleshooting_entry",
]
