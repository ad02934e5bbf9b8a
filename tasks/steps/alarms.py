"""Status-only check: the env's CloudWatch alarms (tasks/alarms.py) and their states, in one read.

The stack owns the alarms; this reads them back with one DescribeAlarms by the env's name prefix
(`otlp2pipeline-ENV-`, 100 a page; another env whose name starts alike is left out by exact name), so
`doit status` shows each alarm's state, and an alarm in ALARM makes status unhealthy. Also drift: an
alarm missing, or notifying elsewhere than `alarms.email` / `alarms.topic_arn` say. `doit doctor` maps
an alarm in ALARM to its cause and fix (tasks/doctor/alarms.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks import alarms as rows
from tasks.errors import StepFailed
from tasks.step import Change, Context, Diff, Outcome

NAME = "alarms"
TOPIC_OUTPUT = "AlarmTopicArn"  # the stack's topic (alarms.email)
PAGE = 100  # DescribeAlarms' largest MaxRecords


@dataclass(frozen=True)
class Wanted:
    names: tuple[str, ...]
    actions: tuple[str, ...] | None  # None: the stack's topic is not known yet (no output)


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str
    since: str  # StateUpdatedTimestamp, UTC, to the second
    actions: tuple[str, ...]  # AlarmActions


@dataclass(frozen=True)
class Alarms:
    expected: tuple[str, ...]  # the env's alarm names, in template order
    found: dict[str, AlarmState] = field(default_factory=dict)
    notify: str = ""


def desired(ctx: Context) -> Wanted:
    config = ctx.config
    names = tuple(a.name for a in rows.alarms(config))
    if config.alarms.email:
        topic = ctx.facts.stack_outputs.get(TOPIC_OUTPUT)
        return Wanted(names, (topic,) if topic else None)
    return Wanted(names, (config.alarms.topic_arn,) if config.alarms.topic_arn else ())


def _since(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if hasattr(value, "strftime") else str(value or "")


def read(ctx: Context) -> dict[str, dict[str, Any]]:
    """Every alarm of the env as DescribeAlarms returns it, by name (one call per 100 alarms)."""
    config = ctx.config
    wanted = {a.name for a in rows.alarms(config)}
    cloudwatch = ctx.clients.client("cloudwatch")
    kwargs: dict[str, Any] = {"AlarmNamePrefix": config.alarm_prefix, "AlarmTypes": ["MetricAlarm"]}
    out: dict[str, dict[str, Any]] = {}
    while True:
        page = cloudwatch.describe_alarms(MaxRecords=PAGE, **kwargs)
        out.update({a["AlarmName"]: a for a in page.get("MetricAlarms", []) if a["AlarmName"] in wanted})
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def observe(ctx: Context) -> Alarms:
    expected = tuple(a.name for a in rows.alarms(ctx.config))
    found = {
        name: AlarmState(
            name,
            str(a.get("StateValue", "")),
            str(a.get("StateReason", "")),
            _since(a.get("StateUpdatedTimestamp")),
            tuple(a.get("AlarmActions") or ()),
        )
        for name, a in read(ctx).items()
    }
    return Alarms(expected, found, rows.notify(ctx.config))


def diff(want: Wanted, have: Alarms) -> Diff[Wanted, Alarms]:
    changes: list[Change] = []
    for name in want.names:
        alarm = have.found.get(name)
        if alarm is None:
            changes.append(Change("create", f"alarm {name}", reason="missing: the stack declares it"))
        elif want.actions is not None and alarm.actions != want.actions:
            changes.append(
                Change(
                    "update",
                    f"alarm {name}",
                    {"AlarmActions": (list(alarm.actions), list(want.actions))},
                    "notifies elsewhere than alarms.email / alarms.topic_arn say",
                )
            )
        elif alarm.state == "ALARM":
            changes.append(
                Change(
                    "update",
                    f"alarm {name}",
                    {"StateValue": ("ALARM", "OK")},
                    f"in ALARM since {alarm.since}",
                )
            )
    return Diff(changes)


def apply(ctx: Context, d: Diff[Wanted, Alarms]) -> Outcome:
    raise StepFailed(
        f"error: the alarms are owned by the stack; `doit doctor env={ctx.config.env}` names the cause of "
        "one in ALARM"
    )


def report(have: Alarms) -> list[tuple[str, str]]:
    lines = [("alarms", f"{len(have.found)} of {len(have.expected)}, notify {have.notify}")]
    for name in have.expected:
        alarm = have.found.get(name)
        if alarm is None:
            lines.append((f"  {name}", "missing"))
        elif alarm.state == "OK":
            lines.append((f"  {name}", "OK"))
        else:
            lines.append((f"  {name}", f"{alarm.state} since {alarm.since}: {alarm.reason}"))
    return lines


def in_alarm(have: Alarms) -> list[AlarmState]:
    """The alarms in ALARM, in template order (doctor's input)."""
    return [have.found[n] for n in have.expected if n in have.found and have.found[n].state == "ALARM"]
