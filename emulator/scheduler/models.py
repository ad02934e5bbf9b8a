"""EventBridge Scheduler's firing on the local AWS's clock: moto keeps the schedules, this invokes targets.

Every enabled schedule of every account and region fires at each time its expression names
(expressions.py), in (the last time it was looked at, now]: a background thread looks every TICK_SECONDS
as time passes, and a move of the local AWS's clock (`clock.on_advance`) fires what fell due in between, in
order, each with its own scheduled time. So a test moves the clock a day instead of waiting for one.

A firing does what EventBridge Scheduler does for a Lambda target: it assumes the target's RoleArn (the
role must exist and trust `scheduler.amazonaws.com`, its conditions read with `aws:SourceAccount` and
`aws:SourceArn` the schedule's), that role's policies must allow `lambda:InvokeFunction` on the function
(moto's IAM policy evaluation, as for the Firehose role), and the function is invoked asynchronously with
the target's Input, its context attributes (`<aws.scheduler.scheduled-time>`, `-schedule-arn>`,
`-execution-id>`, `-attempt-number>`) filled in. A firing that cannot invoke is recorded (`history`) and
dropped; the Scheduler's retries, dead-letter queue and its own metrics are not modelled.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.core import clock
from emulator.core.registry import register_reset
from emulator.scheduler.expressions import due

TICK_SECONDS = 5.0
HISTORY = 200
_lock = threading.RLock()
_fire_lock = threading.Lock()  # one pass at a time: the tick and a clock move never fire a time twice
_seen: dict[str, datetime] = {}  # schedule ARN -> the last time it was looked at
_history: list[dict[str, Any]] = []
_thread: threading.Thread | None = None
_wake = threading.Event()
log = logging.getLogger("emulator.scheduler")


@dataclass(frozen=True)
class Firing:
    account_id: str
    region: str
    schedule_arn: str
    target: dict[str, Any]
    at: datetime


def _now() -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def _created(schedule: Any) -> datetime:
    return datetime.fromtimestamp(float(schedule.creation_date), UTC)


def _record(firing: Firing, outcome: str) -> None:
    with _lock:
        _history.append({"schedule": firing.schedule_arn, "at": firing.at.isoformat(), "outcome": outcome})
        del _history[:-HISTORY]


def history() -> list[dict[str, Any]]:
    with _lock:
        return list(_history)


def _input(firing: Firing, execution: str) -> bytes:
    text = str(firing.target.get("Input") or "{}")
    attributes = {
        "<aws.scheduler.scheduled-time>": firing.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.schedule-arn>": firing.schedule_arn,
        "<aws.scheduler.execution-id>": execution,
        "<aws.scheduler.attempt-number>": "1",
    }
    for name, value in attributes.items():
        text = text.replace(name, value)
    return text.encode()


def _invoke(firing: Firing) -> None:
    """Assume the target's role as Scheduler does, check it may invoke the function, invoke (Event)."""
    from emulator.iam.policy import Need, find_role, first_denied, trusts_service
    from emulator.lambda_ import models as lambda_models
    from emulator.lambda_.exceptions import LambdaError
    from emulator.lambda_.responses import run

    arn = str(firing.target.get("Arn", ""))
    role = find_role(firing.account_id, str(firing.target.get("RoleArn", "")))
    context = {"aws:SourceAccount": firing.account_id, "aws:SourceArn": firing.schedule_arn}
    if role is None or not trusts_service(
        role.assume_role_policy_document, "scheduler.amazonaws.com", context
    ):
        return _record(firing, "role cannot be assumed by scheduler.amazonaws.com")
    if ":lambda:" not in arn:
        return _record(firing, f"target {arn} is not a Lambda function (the local AWS fires Lambda targets)")
    denied = first_denied(role, [Need("lambda:InvokeFunction", arn)])
    if denied is not None:
        return _record(firing, f"role may not {denied.action} on {denied.resource}")
    try:
        fn = lambda_models.get_function(firing.account_id, firing.region, arn.rsplit(":", 1)[-1])
        execution = str(uuid.uuid4())
        _record(firing, f"invoked (execution {execution})")
        run(fn, _input(firing, execution))
    except LambdaError as exc:
        _record(firing, f"invoke failed: {exc.code}")


def _due_firings(until: datetime) -> list[Firing]:
    from moto.scheduler.models import scheduler_backends

    out: list[Firing] = []
    for account_id, regions in list(scheduler_backends.items()):
        for region, backend in list(regions.items()):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    with _lock:
                        after = _seen.get(schedule.arn) or max(_created(schedule), until)
                        _seen[schedule.arn] = until
                    if schedule.state != "ENABLED" or after >= until:
                        continue
                    try:
                        times = list(
                            due(
                                schedule.schedule_expression,
                                schedule.schedule_expression_timezone,
                                _created(schedule),
                                after,
                                until,
                            )
                        )
                    except ValueError:
                        continue  # refused at create; an expression moto took some other way is not fired
                    out += [Firing(account_id, region, schedule.arn, dict(schedule.target), t) for t in times]
    out.sort(key=lambda f: f.at)
    return out


def fire_due(now: float | None = None) -> list[Firing]:
    """Fire what fell due up to `now` (default: the clock's now); the invocations run on one background
    thread, in order, as an asynchronous invocation does. Returns what fired."""
    until = datetime.fromtimestamp(clock.now() if now is None else now, UTC)
    with _fire_lock:
        firings = _due_firings(until)
    if firings:
        threading.Thread(target=_run_all, args=(firings,), daemon=True, name="scheduler-invoke").start()
    return firings


def _run_all(firings: list[Firing]) -> None:
    for firing in firings:
        try:
            _invoke(firing)
        except Exception:  # one target's failure must not stop the others
            log.exception("schedule %s failed to fire", firing.schedule_arn)


def remember(schedule_arn: str) -> None:
    """A new or updated schedule fires from now on, not for times before it existed."""
    with _lock:
        _seen[schedule_arn] = _now()
    ensure_thread()


def _tick() -> None:
    while True:
        _wake.wait(TICK_SECONDS)
        _wake.clear()
        try:
            fire_due()
        except Exception:
            log.exception("schedule evaluation failed")


def ensure_thread() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_tick, daemon=True, name="scheduler")
            _thread.start()


@register_reset
def reset() -> None:
    with _lock:
        _seen.clear()
        _history.clear()


def _advanced(at: float) -> None:
    fire_due(at)


clock.on_advance(_advanced)
