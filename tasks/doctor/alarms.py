"""doctor's reading of the alarms: each alarm in ALARM mapped to a cause doctor already knows, and its fix.

The alarms come from one DescribeAlarms (tasks/steps/alarms.py); each is matched to its row
(tasks/alarms.py) and explained by the row's cause, in RESOLVERS:
- a stream's alarms (delivery failing, records to the error bucket, stale data): the checks above that
  failed for that stream or in the troubleshooting entries of the error codes Firehose logged for it
  (tasks/doctor/entries.py), with their fix; else the logged codes and their entry;
- the ingest function's: the failed ingest checks (tasks/doctor/ingest.py), its reserved concurrency,
  or the resend deadline it ran out;
- retention's (a run failed, no run succeeded for a day): the failed retention checks (its function, role
  and schedule: tasks/doctor/retention.py), else the run's log, and `doit retention` to run it again.
A new row's cause gets one more resolver here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tasks import alarms as rows
from tasks.doctor.entries import (
    ENTRY_APPEND_ONLY,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_FIREHOSE_ROLE_POLICY,
    ENTRY_GLUE_PERMISSIONS,
    ENTRY_RECORD_SHAPE,
    ENTRY_STACK,
    Finding,
    deploy_command,
    describe_codes,
    logged_errors,
    troubleshooting_entry,
)
from tasks.doctor.ingest import ENTRY_INGEST, PUT_ACTION
from tasks.step import Context
from tasks.steps import alarms as alarm_step

ENTRY_ALARMS = "CloudWatch alarms (the stack's: each names what broke)"
RECENT_MINUTES = 60
# The checks whose failure stops a stream's delivery, in the order doctor runs them.
DELIVERY_ENTRIES = (
    ENTRY_GLUE_PERMISSIONS,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_STACK,
    ENTRY_APPEND_ONLY,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_FIREHOSE_ROLE_POLICY,
)


@dataclass(frozen=True)
class Case:
    """What a resolver reads: the run, the alarm's row, its state line, and the findings so far."""

    ctx: Context
    alarm: rows.Alarm
    state: alarm_step.AlarmState
    earlier: list[Finding]
    overrides: dict[str, str] | None

    @property
    def deploy(self) -> str:
        return deploy_command(self.ctx.config, self.overrides)


Resolver = Callable[[Case], tuple[str, str]]  # -> (cause found, fix)


def _failed(case: Case, entries: tuple[str, ...], mentions: tuple[str, ...] = ()) -> list[Finding]:
    """Failed findings of those entries; those naming one of `mentions` first."""
    failed = [f for f in case.earlier if not f.ok and f.entry in entries]
    named = [f for f in failed if any(m in f.cause or m in f.found for m in mentions)]
    return named or failed


def _stream(case: Case) -> tuple[str, str]:
    config, signal = case.ctx.config, case.alarm.scope
    since = datetime.now(UTC) - timedelta(minutes=RECENT_MINUTES)
    codes = logged_errors(case.ctx.clients.logs, config, signal, since)
    entries = tuple(dict.fromkeys(troubleshooting_entry(c) for c in codes)) or DELIVERY_ENTRIES
    mentions = (f"{config.namespace}.{signal}", config.stream_name(signal))
    failed = _failed(case, entries, mentions)
    if failed:
        first = failed[0]
        return f"{first.entry}: {first.cause}: {first.found}", first.fix
    if codes:
        found = f"Firehose logged {describe_codes(codes)}"
        if troubleshooting_entry(codes.most_common(1)[0][0]) == ENTRY_RECORD_SHAPE:
            return found, (
                f"send records that match config/schemas/{signal}.yaml; the ones that failed are in the "
                f"error bucket under {config.error_prefix(signal)} with their errorCode and rawData"
            )
        return found, case.deploy
    return (
        f"no failed check and no delivery error logged in the last {RECENT_MINUTES} min: Firehose is slow or "
        "throttled, or the cause has passed (the alarm turns OK a period after the last bad datapoint)",
        f"`pytest verify/ --env {config.env}` sends records and names what stops them",
    )


def _ingest_errors(case: Case) -> tuple[str, str]:
    failed = _failed(case, (ENTRY_INGEST,))
    if failed:
        return f"{ENTRY_INGEST}: {failed[0].cause}: {failed[0].found}", failed[0].fix
    name = case.ctx.config.ingest_function_name
    return (
        f"no failed ingest check: the function's error is in its log group /aws/lambda/{name}",
        f"aws logs tail /aws/lambda/{name} --since 1h --region {case.ctx.config.region}",
    )


def _ingest_throttled(case: Case) -> tuple[str, str]:
    config = case.ctx.config
    reserved = config.ingest.function.reserved_concurrency
    if reserved is None:
        return (
            "the function has no reserved concurrency, and the account's unreserved concurrency was in use",
            f"{case.deploy} ingest.reserved_concurrency=N (or ask AWS to raise the account's Lambda "
            "concurrent executions quota)",
        )
    more = f"{max(1, reserved * 2)}" if reserved else "null"
    return (
        f"ingest.reserved_concurrency is {reserved}: requests beyond {reserved} at once get 429",
        f"{deploy_command(config, {**(case.overrides or {}), 'ingest.reserved_concurrency': more})}",
    )


def _ingest_slow(case: Case) -> tuple[str, str]:
    config = case.ctx.config
    failed = [
        f
        for f in _failed(case, (ENTRY_INGEST, ENTRY_APPEND_ONLY))
        if PUT_ACTION in f.cause or "stream" in f.cause
    ]
    if failed:
        return f"{failed[0].entry}: {failed[0].cause}: {failed[0].found}", failed[0].fix
    return (
        f"Firehose throttled or refused PutRecordBatch for the whole resend deadline "
        f"(ingest.sender_deadline_seconds={config.ingest.sender_deadline_seconds})",
        "compare the streams' IncomingRecords with the account's Firehose quota, and ask AWS to raise it",
    )


def _retention(case: Case) -> tuple[str, str]:
    from tasks.doctor.retention import ENTRY_RETENTION

    config = case.ctx.config
    failed = _failed(case, (ENTRY_RETENTION,))
    if failed:
        return f"{ENTRY_RETENTION}: {failed[0].cause}: {failed[0].found}", failed[0].fix
    log = f"/aws/lambda/{config.retention_function_name}"
    again = f"doit retention env={config.env}"
    if case.alarm.cause == "missing":
        return (
            "the function and its schedule are in place and no run succeeded in 26 hours: no run yet since "
            f"retention was set, or every run failed (its log {log} says why)",
            f"{again} (a run that succeeds turns the alarm OK)",
        )
    return (
        f"no failed retention check: the run's log {log} names the table and the error",
        f"aws logs tail {log} --since 1d --region {config.region}; then {again}",
    )


RESOLVERS: dict[str, Resolver] = {
    "delivery-failing": _stream,
    "records-to-error-bucket": _stream,
    "data-stale": _stream,
    "errors": _ingest_errors,
    "throttled": _ingest_throttled,
    "near-timeout": _ingest_slow,
    "failed": _retention,
    "missing": _retention,
}


def findings(ctx: Context, earlier: list[Finding], overrides: dict[str, str] | None) -> list[Finding]:
    """One finding per alarm of the env: OK, or in ALARM with its cause and fix (one DescribeAlarms)."""
    have = alarm_step.states(ctx)
    by_name = {a.name: a for a in rows.alarms(ctx.config)}
    out = []
    for name in have.expected:
        state = have.found.get(name)
        cause = f"alarm {name} is not in ALARM"
        if state is None:
            out.append(
                Finding(
                    ENTRY_ALARMS,
                    cause,
                    False,
                    "the alarm does not exist",
                    deploy_command(ctx.config, overrides),
                )
            )
            continue
        if state.state != "ALARM":
            out.append(Finding(ENTRY_ALARMS, f"alarm {name} is {state.state}", True))
            continue
        found, fix = RESOLVERS[by_name[name].cause](Case(ctx, by_name[name], state, earlier, overrides))
        out.append(
            Finding(
                ENTRY_ALARMS, cause, False, f"ALARM since {state.since} ({state.reason}); cause: {found}", fix
            )
        )
    return out
