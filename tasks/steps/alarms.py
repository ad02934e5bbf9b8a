"""The env's CloudWatch alarms (tasks/alarms.py): their states, and drift repaired in place, in one read.

The stack declares the alarms; this reads them back with one DescribeAlarms by the env's name prefix
(`otlp2pipeline-ENV-`, 100 a page; another env whose name starts alike is left out by exact name), once the
stack exists (its outputs name the topic the alarms notify with alarms.email). CloudFormation does not
notice an alarm deleted or changed outside it, so deploy repairs that drift: an alarm missing is put back
by its name (the physical id the stack's resource keeps, so the stack keeps managing it), and one whose
actions differ from `alarms.email` / `alarms.topic_arn` gets them back; both by PutMetricAlarm with the whole
definition the rendered template gives the alarm (PutMetricAlarm overwrites an alarm's configuration).

An alarm in ALARM is no drift: its cause is elsewhere, and `doit doctor` maps it to the cause and the fix
(tasks/doctor/alarms.py). It is an alert: status shows it and is unhealthy; plan and deploy print it and
neither write nor fail for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks import alarms as rows
from tasks.errors import StepFailed
from tasks.step import Change, Context, Diff, Outcome

NAME = "alarms"
TOPIC_OUTPUT = "AlarmTopicArn"  # the stack's topic (alarms.email)
TOPIC_RESOURCE = "AlarmTopic"  # its logical id in templates/alarms.yaml.j2
ALARM_TYPE = "AWS::CloudWatch::Alarm"
PAGE = 100  # DescribeAlarms' largest MaxRecords
# Where an alarm notifies: what the template sets (or leaves empty) and a hand in the console may change.
ACTION_FIELDS = ("ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions")


@dataclass(frozen=True)
class Wanted:
    names: tuple[str, ...]
    actions: tuple[str, ...] | None  # None: the stack's topic is not known yet (no output)
    stack: bool = True  # the stack exists; before it does, its create makes the alarms
    # PutMetricAlarm's arguments per alarm name: the rendered template's properties of its resource.
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str
    since: str  # StateUpdatedTimestamp, UTC, to the second
    # ACTION_FIELDS as DescribeAlarms returns them (action lists as lists, ActionsEnabled as a bool).
    notifies: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alarms:
    expected: tuple[str, ...]  # the env's alarm names, in template order
    found: dict[str, AlarmState] = field(default_factory=dict)
    notify: str = ""
    stack: bool = True  # False: no stack yet, so nothing was read


def desired(ctx: Context) -> Wanted:
    config = ctx.config
    names = tuple(a.name for a in rows.alarms(config))
    topic = ctx.facts.stack_outputs.get(TOPIC_OUTPUT)
    if config.alarms.email:
        actions: tuple[str, ...] | None = (topic,) if topic else None
    else:
        actions = (config.alarms.topic_arn,) if config.alarms.topic_arn else ()
    if not ctx.facts.stack_outputs:
        return Wanted(names, actions, stack=False)
    return Wanted(names, actions, True, definitions(ctx, topic))


def definitions(ctx: Context, topic: str | None) -> dict[str, dict[str, Any]]:
    """Every alarm resource of the rendered template (the stack step's, rendered once a run), its `Ref` to
    the stack's topic resolved from the stack's output: exactly what CloudFormation puts. An alarm the
    stack's update is to change or add (stack.pending) is left out: that change is the stack's."""
    from tasks.steps import stack
    from tasks.steps.firehose_role import resolve

    refs = {TOPIC_RESOURCE: topic} if topic else {}
    out: dict[str, dict[str, Any]] = {}
    for logical_id, resource in (stack.desired(ctx).template.get("Resources") or {}).items():
        if stack.pending(ctx, logical_id):
            continue
        if isinstance(resource, dict) and resource.get("Type") == ALARM_TYPE:
            try:
                props = resolve(resource.get("Properties") or {}, refs)
            except KeyError:  # its topic is not in the stack's outputs yet: the stack's update adds it
                continue
            out[str(props["AlarmName"])] = props
    return out


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


def states(ctx: Context) -> Alarms:
    """The env's alarms and their states, read whether or not the stack exists (doctor's input)."""
    expected = tuple(a.name for a in rows.alarms(ctx.config))
    found = {
        name: AlarmState(
            name,
            str(a.get("StateValue", "")),
            str(a.get("StateReason", "")),
            _since(a.get("StateUpdatedTimestamp")),
            {k: a.get(k, _unset(k)) for k in ACTION_FIELDS},
        )
        for name, a in read(ctx).items()
    }
    return Alarms(expected, found, rows.notify(ctx.config))


def observe(ctx: Context) -> Alarms:
    """Read only once the stack exists: before, there is no alarm of the env to repair."""
    if not ctx.facts.stack_outputs:
        expected = tuple(a.name for a in rows.alarms(ctx.config))
        return Alarms(expected, {}, rows.notify(ctx.config), stack=False)
    return states(ctx)


def diff(want: Wanted, have: Alarms) -> Diff[Wanted, Alarms]:
    if not want.stack or not have.stack:
        return Diff(notes=["no stack yet: its create makes the alarms"])
    changes: list[Change] = []
    alerts: list[str] = []
    pending = [n for n in want.names if n not in want.definitions]
    for name in want.names:
        if name in pending:
            continue
        alarm = have.found.get(name)
        spec = want.definitions[name]
        if alarm is None:
            fields = {k: (None, v) for k, v in spec.items() if k not in ("AlarmName", "Tags")}
            changes.append(
                Change("create", f"alarm {name}", fields, "missing: the stack's template declares it")
            )
            continue
        drifted = _actions_drift(want, alarm, spec)
        if drifted:
            changes.append(
                Change(
                    "update",
                    f"alarm {name}",
                    drifted,
                    "notifies elsewhere than alarms.email / alarms.topic_arn say",
                )
            )
        if alarm.state == "ALARM":
            alerts.append(f"alarm {name} in ALARM since {alarm.since}: {alarm.reason}")
    notes = (
        [
            f"the stack's update is to change or add {len(pending)} alarm(s) ({', '.join(pending)}): deploy "
            "compares them after that update"
        ]
        if pending
        else []
    )
    return Diff(changes, notes, alerts=alerts)


def _unset(key: str) -> Any:
    """An action field's value when the definition leaves it out (PutMetricAlarm's defaults)."""
    return True if key == "ActionsEnabled" else []


def _actions_drift(want: Wanted, alarm: AlarmState, spec: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """ACTION_FIELDS that differ from the template's; none while the stack's topic is not known."""
    if want.actions is None:
        return {}
    out: dict[str, tuple[Any, Any]] = {}
    for key in ACTION_FIELDS:
        wanted, observed = spec.get(key, _unset(key)), alarm.notifies.get(key, _unset(key))
        if observed != wanted:
            out[key] = (observed, wanted)
    return out


def apply(ctx: Context, d: Diff[Wanted, Alarms]) -> Outcome:
    """PutMetricAlarm with the template's whole definition, per alarm that drifted."""
    cloudwatch = ctx.clients.client("cloudwatch")
    details: list[str] = []
    for change in d.changes:
        name = change.resource.removeprefix("alarm ")
        spec = d.desired.definitions.get(name)
        if spec is None:
            raise StepFailed(
                f"error: alarm {name}: the rendered template gives no complete definition of it (the "
                f"stack's {TOPIC_OUTPUT} output is missing?): run `doit deploy env={ctx.config.env}` again"
            )
        cloudwatch.put_metric_alarm(**spec)
        what = "put back" if change.action == "create" else f"{', '.join(change.fields)} restored"
        details.append(f"alarm {name}: {what} as the stack's template declares it")
    created = any(c.action == "create" for c in d.changes)
    return Outcome("created" if created else "updated", details)


def report(have: Alarms) -> list[tuple[str, str]]:
    if not have.stack:
        return [("alarms", f"none yet: the stack makes {len(have.expected)}, notify {have.notify}")]
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
