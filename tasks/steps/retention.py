"""Retention windows (`retention_days`, `retention.SIGNAL`): what the next run drops; a new window at once.

The stack holds the retention function and its daily schedule (templates/retention.yaml.j2); this step
owns what a window means for the data. Observed: the windows the deployed function runs with (the stack's
`RetentionWindows` parameter, from the DescribeStacks every deploy makes) and, per table with a window,
what the next run drops (retention/preview.py: the table's manifest list, one read per table, on the
LoadTable the tables step makes anyway).

- Same windows: nothing to do; plan and status show each table's oldest day and the next run's drop.
- A new or changed window: deploy runs retention once, now, with the caller's credentials (the same run as
  `doit retention`), before the stack update gives the function the new window. So the setting takes effect
  at deploy, not at the next 00:15 UTC, and the retention alarms' first evaluation already sees a run.
  When that run would drop rows, the change says what it loses, plan lists it first, and deploy makes it
  only with `drop=retention` (exit 6 otherwise, nothing written): a shorter window deletes data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tasks.config import Config
from tasks.errors import StepFailed
from tasks.step import Change, Context, Diff, Outcome

if TYPE_CHECKING:
    from retention.preview import Preview

NAME = "retention"
WINDOWS_PARAMETER = "RetentionWindows"  # the stack's parameter: the function's RETENTION_WINDOWS
CONSENT = "retention"


def windows_text(config: Config) -> str:
    from retention.windows import format_windows

    return format_windows(config.retention_windows)


@dataclass(frozen=True)
class Desired:
    env: str
    windows: dict[str, int] = field(hash=False)
    text: str = ""
    reclaim: str = ""  # when a dropped day's bytes are gone (the env's maintenance settings)


@dataclass(frozen=True)
class Observed:
    deployed: str | None  # the deployed function's windows; None: no stack (or no retention in it)
    previews: dict[str, Preview | None] = field(default_factory=dict, hash=False)  # signal -> next drop


def desired(ctx: Context) -> Desired:
    from tasks.retention import reclaim_note

    config = ctx.config
    reclaim = reclaim_note(config) if config.retention_enabled else ""
    return Desired(config.env, dict(config.retention_windows), windows_text(config), reclaim)


def observe(ctx: Context) -> Observed:
    from tasks import retention
    from tasks.steps import tables
    from tasks.steps.stack_events import described

    stack = described(ctx)
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters", [])}
    deployed = params.get(WINDOWS_PARAMETER)
    if not ctx.config.retention_enabled:
        return Observed(deployed)
    now = datetime.now(UTC)
    previews = {
        s: retention.preview(ctx, s, tables.loaded(ctx, s), now) for s in ctx.config.retention_windows
    }
    return Observed(deployed, previews)


def _days(text: str | None) -> dict[str, int]:
    from retention.windows import parse_windows

    try:
        return parse_windows(text or "")
    except ValueError:
        return {}


def loses(previews: dict[str, Preview | None]) -> str:
    """What the run a new window makes at deploy drops, per table (empty: nothing)."""
    from retention.windows import days_text

    parts = []
    for signal, p in previews.items():
        if p is not None and p.drops:
            spanning = f" and part of {p.spanning} more manifest(s)" if p.spanning else ""
            parts.append(f"table {signal}: days {days_text(p.days)}, {p.rows} rows{spanning}")
    return "; ".join(parts)


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    notes = [f"table {s}: {p.text()}" for s, p in have.previews.items() if p is not None]
    if want.reclaim:
        notes.append(want.reclaim)
    if not want.windows or want.text == (have.deployed or ""):
        return Diff(notes=notes)
    before = _days(have.deployed)
    fields: dict[str, tuple[Any, Any]] = {
        f"{s} window days": (before.get(s), want.windows.get(s))
        for s in sorted(set(before) | set(want.windows))
        if before.get(s) != want.windows.get(s)
    }
    lost = loses(have.previews)
    change = Change(
        "update",
        f"retention of env {want.env}",
        fields,
        reason="the new window applies at deploy: one run now, then the function's daily run",
        loses=f"rows outside the new window: {lost}" if lost else "",
        consent=CONSENT if lost else "",
    )
    return Diff([change], notes)


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    from tasks import retention

    lines: list[str] = []
    report = retention.run(ctx.clients, say=lines.append)
    if report.failed:
        raise StepFailed(f"error: {report.summary()}: " + "; ".join(lines[:-1]))
    return Outcome("updated", lines)


def report(have: Observed) -> list[tuple[str, str]]:
    """The windows the function runs with; what each next run drops is the diff's notes (plan shows them)."""
    if not have.previews:
        return [("retention", "keeps every row (retention_days is null)")]
    deployed = _days(have.deployed)
    return [
        (f"retention {s}", f"window {deployed[s]} days" if s in deployed else "no window deployed yet")
        for s in have.previews
    ]
