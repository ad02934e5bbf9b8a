"""`doit destroy env=ENV force=1`: the deploy graph read in reverse, as sceptre's plan deletes.

A step is torn down only after every step that depends on it: the streams (they write into the tables and
use the stack's role), then the readers' grants, their record, and their policy's attachments
(tasks/steps/readers_teardown.py), then the Firehose role's Lake Formation grants, then the stack's
teardown (its error objects, the stack, then the table bucket it keeps with every table and namespace).
The graph is the one deploy runs, for every signal the tool knows (a stream whose signal left the config
goes too). Steps of the
account's setup (`scope="account"`: the LF role, admins, registration, catalog and its grant, the artifacts
bucket) are kept: other envs of the account use them. Steps of one reverse wave run beside each other.

First every teardown finds what exists (read-only) and the list is printed; nothing is deleted before
force=1 or a confirmation. The env's receiver running here (`doit ingest`) is stopped once the delete is
confirmed: without its streams it could only answer 503. Failures raise; tasks/errors.py's cli_action gives
the exit code.
"""

from __future__ import annotations

import dataclasses
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lake.signals import ALL_SIGNALS
from tasks import receiver_ctl
from tasks.errors import UserError, emit
from tasks.step import Context, Step, Teardown
from tasks.steps import all_steps

KEPT = (
    "IAM role S3TablesRoleForLakeFormation, Lake Formation admins and resource registration, "
    "Glue catalog s3tablescatalog and its grant (account-level, shared by every env)"
)


def kept(ctx: Context) -> str:
    """What destroy leaves: the account-level setup and the artifacts bucket (every env's ingest zips)."""
    bucket = ctx.config.artifacts_bucket_name(ctx.account_id)
    return f"{KEPT}; artifacts bucket {bucket} (the ingest zips of every env of the account and region)"


def reverse_waves(steps: list[Step[Any, Any]]) -> list[list[Step[Any, Any]]]:
    """The env's steps that have a teardown, in waves: every step of a wave after every step that depends on
    it (in an earlier wave). `steps` is in dependency order (all_steps); account-level steps are left out."""
    dependents: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for dep in s.deps:
            dependents.setdefault(dep, []).append(s.name)
    wave: dict[str, int] = {}
    for s in reversed(steps):  # every dependent comes later in `steps`, so earlier here
        wave[s.name] = 1 + max((wave[d] for d in dependents[s.name]), default=-1)
    out: list[list[Step[Any, Any]]] = [[] for _ in range(max(wave.values(), default=-1) + 1)]
    for s in steps:
        if s.teardown is not None and s.scope != "account":
            out[wave[s.name]].append(s)
    return [w for w in out if w]


def teardown_steps(ctx: Context) -> list[list[Step[Any, Any]]]:
    """The env's graph for every signal, in reverse waves."""
    every = dataclasses.replace(ctx.config, signals=ALL_SIGNALS)
    return reverse_waves(all_steps(every))


@dataclass(frozen=True)
class Found:
    """What one step's teardown found, and how the list names it."""

    step: str
    teardown: Teardown[Any]
    what: Any
    lines: tuple[str, ...]


@dataclass
class Inventory:
    """What destroy would delete, wave by wave."""

    waves: list[list[Found]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.waves)

    def of(self, step: str) -> Any | None:
        """What the step's teardown found (None: nothing)."""
        return next((f.what for w in self.waves for f in w if f.step == step), None)

    def lines(self) -> list[str]:
        return [line for w in self.waves for f in w for line in f.lines]


def inventory(ctx: Context) -> Inventory:
    inv = Inventory()
    for wave in teardown_steps(ctx):
        found = []
        for step in wave:
            assert step.teardown is not None
            what = step.teardown.find(ctx)
            if what is not None:
                found.append(Found(step.name, step.teardown, what, tuple(step.teardown.lines(what))))
        if found:
            inv.waves.append(found)
    return inv


def confirm(ctx: Context, force: bool) -> None:
    """force=1, or a yes typed on a terminal; without a terminal nothing is deleted."""
    if force:
        return
    if not sys.stdin.isatty():
        raise UserError(
            f"error: destroy env={ctx.config.env} needs force=1 (no terminal to confirm on): "
            "nothing was deleted"
        )
    answer = input(f"type the env name ({ctx.config.env}) to delete all of the above: ").strip()
    if answer != ctx.config.env:
        raise UserError(
            f"error: confirmation {answer!r} does not match env {ctx.config.env!r}: nothing was deleted"
        )


def _run_wave(ctx: Context, wave: list[Found]) -> None:
    if len(wave) == 1:
        wave[0].teardown.delete(ctx, wave[0].what)
        return
    with ThreadPoolExecutor(max_workers=min(8, len(wave))) as pool:
        for future in [pool.submit(f.teardown.delete, ctx, f.what) for f in wave]:
            future.result()


def stop_receiver(ctx: Context) -> None:
    """The env's receiver (`doit ingest`) would answer 503 to every request once its streams are gone."""
    stopped = receiver_ctl.stop_env(ctx.config.env, ctx.config.endpoint)
    if stopped is not None:
        ctx.say(f"stopped the receiver for env {stopped.env} (pid {stopped.pid})")


def destroy(ctx: Context, force: bool) -> int:
    """Delete the env's resources. Returns 0 (EXIT_OK): done or nothing to delete."""
    inv = inventory(ctx)
    if inv.empty:
        emit(f"destroy env={ctx.config.env}: nothing to delete; kept: {kept(ctx)}")
        stop_receiver(ctx)
        return 0
    emit(f"destroy env={ctx.config.env} deletes:")
    for line in inv.lines():
        emit(f"  - {line}")
    emit(f"  kept: {kept(ctx)}")
    confirm(ctx, force)
    stop_receiver(ctx)
    for wave in inv.waves:
        _run_wave(ctx, wave)
    emit(f"destroy env={ctx.config.env}: done; kept: {kept(ctx)}; {ctx.clients.counter.summary()}")
    return 0
