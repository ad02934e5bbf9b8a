"""The deploy steps, in dependency order, as `Step` objects (tasks/step.py).

Edges (deps) say what must finish first: account setup runs beside the stack; each signal's table waits
for the stack (its bucket and namespace) and runs beside the other tables; the grants wait for the tables
and the catalog grant, and the readers' grants for the Firehose role's; the Firehose role's policy check
waits for the stack; each stream waits for both and runs beside the other streams. Kept tables (of
signals that left the config) are deleted, when drop= names them, only after their streams and every
grant on them are gone.

destroy reads the same graph in reverse (tasks/destroy.py): the streams, then the readers' grants
(and the detaching of their policy), then the Firehose role's grants, then the stack (its error objects,
the stack, the table bucket it keeps); account-level steps are kept.
"""

from __future__ import annotations

from typing import Any

from tasks.config import Config
from tasks.step import Context, Diff, Outcome, Step
from tasks.steps import (
    alarms,
    artifacts_bucket,
    catalog,
    catalog_grant,
    firehose_role,
    function,
    grants,
    ingest_code,
    kept_tables,
    lf_admins,
    lf_resource,
    lf_role,
    readers,
    readers_teardown,
    retention,
    retention_code,
    retention_role,
    retention_runs,
    retention_schedule,
    rollback_code,
    stack,
    stack_teardown,
    streams,
    tables,
)


def _module_step(mod: Any, deps: tuple[str, ...] = (), **extra: Any) -> Step[Any, Any]:
    return Step(mod.NAME, mod.desired, mod.observe, mod.diff, mod.apply, deps, report=mod.report, **extra)


def _account_step(mod: Any, deps: tuple[str, ...] = (), **extra: Any) -> Step[Any, Any]:
    """A step of the account's setup, shared by every env of the account and region: destroy keeps it."""
    return _module_step(mod, deps, scope="account", **extra)


def stream_step_name(signal: str) -> str:
    return f"stream_{signal}"


def _stream_step(signal: str) -> Step[streams.Desired, streams.Observed]:
    def want(ctx: Context) -> streams.Desired:
        return streams.desired(ctx, signal)

    def have(ctx: Context) -> streams.Observed:
        return streams.observe(ctx, signal)

    def do(ctx: Context, d: Diff[streams.Desired, streams.Observed]) -> Outcome:
        return streams.apply(ctx, d)

    deps = (grants.NAME, firehose_role.NAME)
    return Step(
        stream_step_name(signal),
        want,
        have,
        streams.diff,
        do,
        deps,
        report=streams.report,
        teardown=streams.teardown(signal),
    )


def _table_step(signal: str) -> Step[tables.Desired, tables.Observed]:
    def want(ctx: Context) -> tables.Desired:
        return tables.desired(ctx, signal)

    def have(ctx: Context) -> tables.Observed:
        return tables.observe(ctx, signal)

    return Step(
        tables.step_name(signal),
        want,
        have,
        tables.diff,
        tables.apply,
        (stack.NAME,),
        report=tables.report,
        guards=True,
    )


def all_steps(config: Config, *, include_checks: bool = False) -> list[Step[Any, Any]]:
    """Every step for the env, topologically ordered (a step comes after all its deps)."""
    steps: list[Step[Any, Any]] = [
        _account_step(lf_role),
        _account_step(lf_admins, needs_principal=True),
        _account_step(lf_resource, (lf_role.NAME,)),
        _account_step(catalog, (lf_resource.NAME, lf_admins.NAME)),
        _account_step(catalog_grant, (catalog.NAME,), needs_principal=True),
        Step(
            streams.CLEANUP,
            streams.cleanup_desired,
            streams.cleanup_observe,
            streams.cleanup_diff,
            streams.cleanup_apply,
            (),
            report=streams.cleanup_report,
        ),
    ]
    stack_deps: tuple[str, ...] = (streams.CLEANUP,)
    if config.ingest.function.enabled or config.retention_enabled:  # a function's zip is in place first
        steps.append(_account_step(artifacts_bucket))
    if config.ingest.function.enabled:  # the function's zip is in place before the stack names its key,
        # and so is the deployed one, which a failed update rolls back to
        steps += [
            _module_step(ingest_code, (artifacts_bucket.NAME,)),
            _module_step(rollback_code, (ingest_code.NAME,)),
        ]
        stack_deps += (ingest_code.NAME, rollback_code.NAME)
    if config.retention_enabled:  # its zip, and a new window applied (one run) before the stack has it
        steps += [
            _module_step(retention_code, (artifacts_bucket.NAME,)),
            _module_step(retention, (streams.CLEANUP,), guards=True),
        ]
        stack_deps += (retention_code.NAME, retention.NAME)
    steps.append(
        _module_step(stack, stack_deps, publish=stack.publish, guards=True, teardown=stack_teardown.TEARDOWN)
    )
    # The stack's alarms, deleted or retargeted outside CloudFormation, put back as its template declares.
    steps.append(_module_step(alarms, (stack.NAME,)))
    if include_checks:
        steps.append(_module_step(function, (stack.NAME,), deploys=False))
        if config.retention_enabled:
            steps.append(_module_step(retention_runs, (stack.NAME,), deploys=False))
    steps += [_table_step(s) for s in config.signals]
    table_deps = tuple(tables.step_name(s) for s in config.signals)
    steps.append(
        _module_step(grants, (stack.NAME, catalog_grant.NAME, *table_deps), teardown=grants.TEARDOWN)
    )
    # The role's inline policy, drifted outside CloudFormation, before the streams that deliver with it.
    steps.append(_module_step(firehose_role, (stack.NAME,)))
    if (
        config.retention_enabled
    ):  # the retention function's role and its schedule, drifted outside CloudFormation
        steps += [
            _module_step(retention_role, (stack.NAME,)),
            _module_step(retention_schedule, (stack.NAME,)),
        ]
    steps += [_stream_step(s) for s in config.signals]
    # Readers' grants on the same tables, after the Firehose role's (one Lake Formation listing for both).
    readers_deps = (stack.NAME, catalog_grant.NAME, *table_deps, grants.NAME)
    steps.append(_module_step(readers, readers_deps, teardown=readers_teardown.TEARDOWN))
    # A kept table goes (drop=) only after its stream (stream_cleanup) and every grant on it are gone.
    steps.append(_module_step(kept_tables, (streams.CLEANUP, grants.NAME, readers.NAME), guards=True))
    return steps


__all__ = ["all_steps", "stream_step_name"]
