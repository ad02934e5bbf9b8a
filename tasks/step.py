"""The one shape of every deploy step, and the three readings of it (plan, status, deploy).

A step module (tasks/steps/*.py) exposes four functions:

    desired(ctx) -> D            what the env's config asks for (no AWS call)
    observe(ctx) -> O            what exists, read cheaply (read-only calls only)
    diff(desired, observed) -> Diff    pure: no call, no clock, no ctx
    apply(ctx, diff) -> Outcome  the mutating calls that make observed == desired

plan prints `diff`, status prints `observe` + `diff` per item, deploy calls `apply` when the diff is not
empty; doit's `uptodate` for a deploy subtask is `diff.empty`. Verify/doctor/reliability code reuses
`Step.evaluate` (observe + diff) and never duplicates the comparison.

A step may also have a `Teardown`: what destroy deletes of it. destroy reads the graph in reverse
(tasks/destroy.py): a step is torn down after every step that depends on it, and account-level steps
(`scope="account"`, shared by every env of the account) are never torn down.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from tasks.aws import Clients
from tasks.config import Config
from tasks.errors import emit
from tasks.facts import Facts

Action = Literal["create", "update", "replace", "delete"]
Result = Literal["created", "updated", "replaced", "deleted", "unchanged", "waited"]

Scope = Literal["env", "account"]

ACTIONS: tuple[str, ...] = ("create", "update", "replace", "delete")


@dataclass(frozen=True)
class Change:
    """One resource that deploy would touch; `fields` maps a field to (observed, desired).

    `loses` is set when the change deletes or replaces something that holds data (a table, the namespace,
    the table bucket, a bucket with objects): what would be lost, e.g. "table traces: 1,204 rows, 3.1 MB,
    newest 2026-12-06 07:10 UTC". Such a change is listed first, in a section of its own, and deploy makes
    it only when the command names `consent` (the token the user gives as `drop=...`).

    `replaces` names the fields whose change makes AWS replace the resource (a create-only property).
    """

    action: Action
    resource: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str = ""
    loses: str = ""
    consent: str = ""
    replaces: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "resource": self.resource,
            "fields": {k: {"observed": o, "desired": d} for k, (o, d) in self.fields.items()},
            "reason": self.reason,
        }
        if self.loses:
            out["loses"] = self.loses
            out["consent"] = self.consent
        if self.replaces:
            out["replaces"] = list(self.replaces)
        return out

    def lines(self) -> list[str]:
        head = f"{self.action} {self.resource}" + (f" ({self.reason})" if self.reason else "")
        out = [head]
        for name, (obs, des) in self.fields.items():
            forces = " (forces replacement)" if name in self.replaces else ""
            out.append(f"    {name}: {_short(obs)} -> {_short(des)}{forces}")
        return out


T = TypeVar("T")  # what a step's teardown finds


@dataclass(frozen=True)
class Teardown(Generic[T]):
    """What destroy does for one step: `find` reads what of it exists (read-only calls; None when nothing
    does), `lines` names that for the list destroy prints before it deletes anything, and `delete` deletes
    it (printing a line per thing deleted)."""

    find: Callable[[Context], T | None]
    lines: Callable[[T], list[str]]
    delete: Callable[[Context, T], None]


D = TypeVar("D")  # what a step's desired() returns
O = TypeVar("O")  # noqa: E741  (what a step's observe() returns; Step[D, O] reads best)


@dataclass
class Diff(Generic[D, O]):
    """Changes deploy would make, plus notes: things reported but deliberately left alone.

    `desired` and `observed` ride along so apply() needs no second read; Step.evaluate sets them
    right after diff() (a pure diff() builds the Diff from the changes alone).
    """

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the config asks for and deploy will not do (e.g. a column type Iceberg cannot change in place):
    # one line each, naming the item, the rule and what the user can do. While one stands, plan exits 2 and
    # deploy writes nothing (Run.check).
    refusals: list[str] = field(default_factory=list)
    # States that are unhealthy and that no deploy changes, their cause being elsewhere (an alarm in ALARM:
    # `doit doctor` names the cause): status reports them and is unhealthy while one stands; plan and deploy
    # print them and neither write nor fail for them.
    alerts: list[str] = field(default_factory=list)
    desired: D = None  # type: ignore[assignment]  # set by Step.evaluate before anyone reads it
    observed: O = None  # type: ignore[assignment]

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"changes": [c.to_dict() for c in self.changes], "notes": list(self.notes)}
        if self.refusals:
            out["refusals"] = list(self.refusals)
        if self.alerts:
            out["alerts"] = list(self.alerts)
        return out


@dataclass
class Outcome:
    """What apply() did; what later steps need to know goes to ctx.facts (tasks/facts.py)."""

    result: Result
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What the command asked of a deploy beyond the config: `repair=1` (account setup put back the way
    the tool sets it) and `drop=` (consent, by name, to changes that delete data)."""

    repair: bool = False
    drop: tuple[str, ...] = ()


@dataclass
class Context:
    """Everything a step needs: config, the one Clients (session, retries, call counter), the run's facts."""

    config: Config
    clients: Clients
    facts: Facts = field(default_factory=Facts)
    options: Options = field(default_factory=Options)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.clients.account_id

    @property
    def repair(self) -> bool:
        return self.options.repair

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """One read shared by several steps' observe() within a run (e.g. the LF permission list)."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def forget(self, key: str) -> None:
        with self._lock:
            self._memo.pop(key, None)

    def say(self, message: str) -> None:
        """Print one progress line; steps run on threads, so lines are written whole."""
        with self._lock:
            emit(message)


@dataclass(frozen=True)
class Step(Generic[D, O]):
    """A named step: the four functions bound to their arguments, plus deploy-graph edges.

    D is what desired() returns, O what observe() returns; the Diff carries both, typed, to apply().
    """

    name: str
    desired: Callable[[Context], D]
    observe: Callable[[Context], O]
    diff: Callable[[D, O], Diff[D, O]]
    apply: Callable[[Context, Diff[D, O]], Outcome]
    deps: tuple[str, ...] = ()
    # Status lines per item, from what observe() returned: [(item, state)].
    report: Callable[[O], list[tuple[str, str]]] | None = None
    # Records in ctx.facts what later steps read (e.g. stack outputs), from what observe() returned.
    publish: Callable[[Context, O], None] | None = None
    # Read-only checks (status only) have no apply and are not part of plan/deploy.
    deploys: bool = True
    # Evaluated before any step of a deploy writes (Run.check): its diff may refuse a change or delete
    # data (Change.loses), and deploy must know that before its first write.
    guards: bool = False
    # What destroy deletes of the step (None: nothing of its own, e.g. what the stack deletes with it).
    teardown: Teardown[Any] | None = None
    # "account": set up once per account and region and shared by every env; destroy keeps it.
    scope: Scope = "env"
    # Its desired state names the caller as a Lake Formation principal: the run reads the caller's
    # principal (iam:GetRole) before any step runs.
    needs_principal: bool = False

    def evaluate(self, ctx: Context) -> Diff[D, O]:
        """observe + diff; publishes observed results for later steps."""
        desired = self.desired(ctx)
        observed = self.observe(ctx)
        d = self.diff(desired, observed)
        d.desired, d.observed = desired, observed
        if self.publish is not None:
            self.publish(ctx, observed)
        return d


# -- helpers shared by steps -----------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """Canonical form for comparing policy documents and templates: sorted keys, sorted unordered lists.

    IAM treats `"Action": "x"` and `"Action": ["x"]` alike, and list order in policies carries no
    meaning, so both are folded here; comparison is then plain equality.
    """
    if isinstance(value, dict):
        out = {str(k): normalize(v) for k, v in value.items()}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if isinstance(out.get(key), str):
                out[key] = [out[key]]
        return out
    if isinstance(value, list | tuple):
        items = [normalize(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def plain(value: Any) -> Any:
    """Plain JSON types (parsers return dict/str subclasses with position marks)."""
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 120) -> str:
    """A field's value on a plan line: a structure as JSON cut at `limit`; a string (a key, an ARN, the
    code update's sentence) in full, since a cut one names nothing."""
    if isinstance(value, str):
        return value
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
