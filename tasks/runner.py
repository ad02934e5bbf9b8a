"""Plan, status and deploy: three readings of the steps' one shape (tasks/step.py).

`Run` holds one Context (config + Clients + facts) for the whole command and caches each step's Diff
from its evaluation, so doit's `uptodate` check and the deploy action read AWS once per step.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tasks.aws import Clients
from tasks.config import Config
from tasks.errors import ConsentRequired, StepFailed, UserError, describe
from tasks.step import Change, Context, Diff, Options, Outcome, Step
from tasks.steps import all_steps, readers


@dataclass
class StepResult:
    name: str
    diff: Diff[Any, Any] | None = None
    outcome: Outcome | None = None
    error: str | None = None
    code: int = 0  # the exit code of the error (tasks/errors.py): 4 for an AWS error, 3 for credentials
    elapsed: float = 0.0
    started: float = field(default_factory=time.monotonic)


class Run:
    """One command's state: the context, the steps, and what each step saw and did."""

    def __init__(
        self,
        config: Config,
        options: Options | None = None,
        *,
        include_checks: bool = False,
        clients: Clients | None = None,
    ) -> None:
        self.config = config
        self.ctx = Context(config, clients or Clients(config), options=options or Options())
        self.steps: dict[str, Step[Any, Any]] = {
            s.name: s for s in all_steps(config, include_checks=include_checks)
        }
        self.results: dict[str, StepResult] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._checked = threading.Lock()
        self._check_done = False
        self._fresh: set[str] = set()  # evaluated by check(), not yet used by uptodate()
        _ = self.ctx.clients.identity  # GetCallerIdentity once, before any thread needs it
        readers.check_accounts(config.readers, self.ctx.account_id)  # before any other call
        if any(s.needs_principal for s in self.steps.values()):  # its role ARN (iam:GetRole), before a write
            _ = self.ctx.clients.caller_principal

    @property
    def counter(self) -> Any:
        return self.ctx.clients.counter

    def evaluate(self, name: str) -> StepResult:
        """observe + diff of one step, cached; an exception is kept and re-raised by apply()."""
        res = StepResult(name)
        try:
            res.diff = self.steps[name].evaluate(self.ctx)
        except Exception as exc:  # reported by the action, so doit names the failed step
            res.error, res.code = describe(exc)
        res.elapsed = time.monotonic() - res.started
        with self._lock:
            self.results[name] = res
        return res

    def uptodate(self, name: str) -> bool:
        """doit's uptodate: the step's diff is empty. Prints `unchanged` when it is."""
        with self._lock:
            fresh = name in self._fresh
            self._fresh.discard(name)
        res = self.results[name] if fresh else self.evaluate(name)
        if res.error is None and res.diff is not None and res.diff.empty:
            self.ctx.say(f"{name}: unchanged ({res.elapsed:.2f}s)")
            for note in res.diff.notes:
                self.ctx.say(f"  note: {note}")
            for alert in res.diff.alerts:
                self.ctx.say(f"  alert: {alert}")
            res.outcome = Outcome("unchanged")
            return True
        return False

    def check(self) -> None:
        """Before the first write of a deploy: evaluate the steps that guard data (Step.guards), then refuse
        (nothing written) a change the config asks for and deploy will not make (exit 2), or one that loses
        data without `drop=` naming it (exit 6). Prints the data-losing changes first, in their own section.
        Their evaluations are reused by uptodate(), so this reads nothing twice. Runs once per Run."""
        with self._checked:
            if self._check_done:
                return
            guards = [n for n, s in self.steps.items() if s.deploys and s.guards]
            results = [self.evaluate(n) for n in guards]
            with self._lock:
                self._fresh.update(guards)
            for res in results:
                if res.error is not None:
                    raise StepFailed(f"deploy:{res.name} failed: {res.error}")
            drop = self.ctx.options.drop
            refused = refusals(results, drop)
            if refused:
                raise UserError("\n".join(refused))
            losing = losing_changes(results)
            if losing:
                self.ctx.say(LOSES_HEAD)
                for change in losing:
                    self.ctx.say(loses_line(change))
            missing = [c for c in losing if c.consent not in drop]
            if missing:
                raise ConsentRequired(consent_message(self.config.env, missing))
            self._check_done = True

    def apply(self, name: str) -> StepResult:
        """Apply the cached diff (evaluating first if doit ran the action without an uptodate check)."""
        self.check()
        res = self.results.get(name)
        if res is None or (res.outcome is not None):
            res = self.evaluate(name)
        if res.error is not None:
            raise StepFailed(f"deploy:{name} failed: {res.error}")
        assert res.diff is not None
        for note in res.diff.notes:
            self.ctx.say(f"  note: {note}")
        for alert in res.diff.alerts:
            self.ctx.say(f"  alert: {alert}")
        if res.diff.empty:
            res.outcome = Outcome("unchanged")
        else:
            for change in res.diff.changes:
                self.ctx.say(f"{name}: {change.lines()[0]}")
            t0 = time.monotonic()
            try:
                res.outcome = self.steps[name].apply(self.ctx, res.diff)
            except Exception as exc:
                res.error = describe(exc)[0]
                raise StepFailed(f"deploy:{name} failed: {res.error}") from exc
            finally:
                res.elapsed += time.monotonic() - t0
        self.ctx.say(f"{name}: {res.outcome.result} ({res.elapsed:.2f}s)")
        for detail in res.outcome.details:
            self.ctx.say(f"  {detail}")
        return res

    def summary(self) -> str:
        outcomes: dict[str, int] = {}
        for res in self.results.values():
            if res.outcome is not None:
                outcomes[res.outcome.result] = outcomes.get(res.outcome.result, 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
        return (
            f"deploy env={self.config.env}: {parts or 'nothing'} in {time.monotonic() - self.started:.1f}s; "
            f"{self.counter.summary()}"
        )

    # -- the other two readings ------------------------------------------------------------------

    def deploy_sequential(self) -> list[StepResult]:
        """Deploy without doit (tests, bench): same steps, in dependency order, one thread."""
        self.check()  # as `doit deploy`'s deploy:check, before every step
        out = []
        for name, step in self.steps.items():
            if not step.deploys:
                continue
            if not self.uptodate(name):
                out.append(self.apply(name))
            else:
                out.append(self.results[name])
        return out

    def plan(self) -> list[StepResult]:
        return [self.evaluate(name) for name, step in self.steps.items() if step.deploys]


# -- what loses data, and what is refused: the same reading for plan and deploy ------------------------

LOSES_HEAD = "data these changes delete (deploy makes each only when drop= names it):"


def losing_changes(results: list[StepResult]) -> list[Change]:
    return [c for r in results if r.diff is not None for c in r.diff.changes if c.loses]


def loses_line(change: Change) -> str:
    return f"  {change.action} {change.loses} [drop={change.consent}]"


def refusals(results: list[StepResult], drop: tuple[str, ...]) -> list[str]:
    """Every step's refusals, and each `drop=` token that names nothing a change would delete (unless a
    step already refused it, saying why)."""
    out = [line for r in results if r.diff is not None for line in r.diff.refusals]
    offered = {c.consent for c in losing_changes(results)}
    for token in drop:
        if token not in offered and not any(line.startswith(f"error: drop={token} ") for line in out):
            can = ", ".join(sorted(offered))
            out.append(
                f"error: drop={token} names nothing this deploy would delete"
                + (f" (it could delete: {can})" if can else " (no kept table or other data to delete)")
            )
    return out


def consent_message(env: str, missing: list[Change]) -> str:
    tokens = ",".join(dict.fromkeys(c.consent for c in missing))
    what = "; ".join(c.loses for c in missing)
    return (
        f"error: deploy env={env} would delete data: {what}. Nothing was changed: to allow it, run "
        f"`doit deploy env={env} drop={tokens}`"
    )


def plan_dict(config: Config, results: list[StepResult], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    losing = losing_changes(results)
    return {
        "env": config.env,
        "changes": sum(len(r.diff.changes) for r in results if r.diff),
        "loses": [{**c.to_dict(), "consented": c.consent in drop} for c in losing],
        "refusals": refusals(results, drop),
        "steps": [
            {"step": r.name, "error": r.error, **(r.diff.to_dict() if r.diff else {})} for r in results
        ],
    }


def plan_text(config: Config, results: list[StepResult], drop: tuple[str, ...] = ()) -> str:
    lines = [f"plan env={config.env} (stack {config.stack_name}, region {config.region})"]
    losing = losing_changes(results)
    if losing:
        lines.append(LOSES_HEAD)
        lines += [
            loses_line(c) + ("" if c.consent in drop else " (not named: deploy refuses)") for c in losing
        ]
    refused = refusals(results, drop)
    if refused:
        lines.append("refused (deploy changes nothing while these stand):")
        lines += [f"  {line}" for line in refused]
    total = 0
    for r in results:
        if r.error:
            lines.append(f"{r.name}: cannot read: {r.error}")
            continue
        assert r.diff is not None
        total += len(r.diff.changes)
        if r.diff.empty and not r.diff.notes and not r.diff.alerts:
            lines.append(f"{r.name}: no changes")
        for change in r.diff.changes:
            first, *rest = change.lines()
            lines.append(f"{r.name}: {first}")
            lines += [f"  {x}" for x in rest]
        for note in r.diff.notes:
            lines.append(f"{r.name}: note: {note}")
        for alert in r.diff.alerts:
            lines.append(f"{r.name}: alert (deploy does not change it): {alert}")
    lines.append("no changes" if total == 0 else f"{total} change(s)")
    return "\n".join(lines)


@dataclass(frozen=True)
class StepStatus:
    """One step as status reports it: ok, or its drift, refusals and notes; its items' states."""

    step: str
    ok: bool
    error: str | None = None
    diff: Diff[Any, Any] | None = None
    items: tuple[tuple[str, str], ...] = ()  # (item, state), from the step's report()

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"step": self.step, "ok": self.ok}
        if self.error:
            entry["error"] = self.error
        if self.diff is not None:
            entry["items"] = [{"item": k, "state": v} for k, v in self.items]
            entry.update(self.diff.to_dict())
        return entry


@dataclass
class StatusReport:
    """`doit status`'s report: every step, then what is shown and never unhealthy (the local receiver,
    the tables' freshness)."""

    env: str
    steps: list[StepStatus]
    receiver: dict[str, Any] | None = None
    freshness: dict[str, Any] | None = None

    @property
    def healthy(self) -> bool:
        return all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "env": self.env,
            "healthy": self.healthy,
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.receiver is not None:
            doc["receiver"] = self.receiver
        if self.freshness is not None:
            doc["freshness"] = self.freshness
        return doc


def status_report(config: Config, run: Run, results: list[StepResult]) -> StatusReport:
    steps = []
    for r in results:
        step = run.steps[r.name]
        ok = (
            r.error is None
            and r.diff is not None
            and r.diff.empty
            and not r.diff.refusals
            and not r.diff.alerts
        )
        items = tuple(step.report(r.diff.observed)) if r.diff is not None and step.report else ()
        steps.append(StepStatus(r.name, ok, r.error, r.diff, items))
    return StatusReport(config.env, steps)


def status_text(report: StatusReport) -> str:
    lines = [f"status env={report.env}"]
    for step in report.steps:
        mark = "ok   " if step.ok else "ALERT" if step.diff and _only_alerts(step.diff) else "DRIFT"
        if step.error:
            lines.append(f"[ERROR] {step.step}: {step.error}")
            continue
        items = list(step.items) or [(step.step, "")]
        for i, (item, state) in enumerate(items):
            lines.append(f"[{mark if i == 0 else '     '}] {item}: {state}")
        diff = step.diff
        for change in diff.changes if diff is not None else []:
            lines.append(
                f"        drift: {change.action} {change.resource}"
                + (f" ({change.reason})" if change.reason else "")
            )
            for fname, (observed, desired) in change.fields.items():
                lines.append(
                    f"          {fname}: {json.dumps(observed, default=str)[:100]} -> "
                    f"{json.dumps(desired, default=str)[:100]}"
                )
        for refusal in diff.refusals if diff is not None else []:
            lines.append(f"        refused: {refusal.removeprefix('error: ')}")
        for alert in diff.alerts if diff is not None else []:
            lines.append(f"        alert: {alert}")
        for note in diff.notes if diff is not None else []:
            lines.append(f"        note: {note}")
    if report.freshness is not None:
        from tasks.table_facts import freshness_lines

        lines += freshness_lines(report.freshness)
    lines.append(_verdict(report))
    return "\n".join(lines)


def _verdict(report: StatusReport) -> str:
    """The last line: healthy, or what to run. Drift is repaired by deploy; an alert (an alarm in ALARM) at
    its cause, which doctor names."""
    env = report.env
    if report.healthy:
        return "healthy"
    drift = [s for s in report.steps if not s.ok and (s.diff is None or not _only_alerts(s.diff))]
    alerted = any(s.diff is not None and s.diff.alerts for s in report.steps)
    doctor = f"`doit doctor env={env}` names the cause and the fix of an alarm"
    if not drift:
        return f"unhealthy: {doctor}"
    return f"unhealthy: run `doit deploy env={env}` to converge" + (f"; {doctor}" if alerted else "")


def _only_alerts(diff: Diff[Any, Any]) -> bool:
    return diff.empty and not diff.refusals and bool(diff.alerts)
