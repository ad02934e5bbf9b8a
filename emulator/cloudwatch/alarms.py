"""Metric alarms evaluated as CloudWatch evaluates them, on the local AWS's clock (emulator/core/clock.py).

CloudWatch evaluates an alarm every minute on a sliding window: the alarm's EvaluationPeriods periods of
Period seconds ending at that minute. Here every metric alarm of every account and region is evaluated at
each whole minute of the local AWS's clock: by a background thread as time passes (every TICK_SECONDS it
evaluates what fell due), and, when a fault moves the clock forward (``clock.on_advance``), at every
minute that fell due in between whose window holds a datapoint, plus the first empty one after it and the
last: the other minutes see the same empty window, so they could only repeat that evaluation. So tests
move the clock instead of waiting, and every transition CloudWatch would have made in between is made,
with its history item and its actions.

One evaluation at minute ``t``: each period ``[t - (i+1)P, t - iP)`` gets the alarm's Statistic over the
metric's datapoints with exactly the alarm's dimensions (and its Unit, when it names one), computed by
moto's ``Statistics``; a period without datapoints is missing. A value breaches when ComparisonOperator
holds against Threshold. TreatMissingData decides the rest:

- ``breaching`` / ``notBreaching``: a missing period counts as breaching / not breaching;
- ``missing``: missing periods are left out; all missing -> INSUFFICIENT_DATA;
- ``ignore``: missing periods are left out; all missing -> the state stays.

ALARM when at least DatapointsToAlarm (default EvaluationPeriods) periods breach, otherwise OK. Only a
change of state updates StateReason, StateReasonData and the timestamps, adds a history item and runs
the new state's actions (emulator/cloudwatch/models.py ``change_state``).

``put_alarm`` (PutMetricAlarm, and the ``AWS::CloudWatch::Alarm`` type) stores an alarm with the rules of
models.py and evaluates it at once, as CloudWatch does.
"""

from __future__ import annotations

import bisect
import math
import threading
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, MetricDatumBase, Statistics, cloudwatch_backends

from emulator.cloudwatch import models
from emulator.core import clock
from emulator.core.exceptions import AwsError

MINUTE = 60
TICK_SECONDS = 5.0  # how often the background thread looks for minutes that fell due
_lock = threading.RLock()
_thread: threading.Thread | None = None
_wake = threading.Event()


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _series(account_id: str, region: str, alarm: Alarm) -> list[tuple[float, MetricDatumBase]]:
    """The alarm's metric: datapoints with its namespace, name, exactly its dimensions (and its unit)."""
    want = {(d.name, d.value) for d in alarm.dimensions}
    out = [
        (_epoch(md.timestamp), md)
        for md in list(cloudwatch_backends[account_id][region].metric_data)
        if md.namespace == alarm.namespace
        and md.name == alarm.metric_name
        and {(d.name, d.value) for d in md.dimensions} == want
        and (not alarm.unit or md.unit == alarm.unit)
    ]
    out.sort(key=lambda pair: pair[0])
    return out


def _breaches(value: float, comparison: str, threshold: float) -> bool:
    return {
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "GreaterThanThreshold": value > threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }.get(comparison, False)


def _stamp(seconds: float) -> str:
    return _utc(seconds).strftime("%d/%m/%y %H:%M:%S")


def _iso(seconds: float) -> str:
    return _utc(seconds).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _periods(alarm: Alarm, series: list[tuple[float, MetricDatumBase]], at: float) -> list[tuple[float, Any]]:
    """(period start, Statistics or None), newest first, for the window ending at ``at``."""
    times = [t for t, _ in series]
    out: list[tuple[float, Any]] = []
    for i in range(int(alarm.evaluation_periods)):
        end = at - i * int(alarm.period)
        start = end - int(alarm.period)
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        if lo == hi:
            out.append((start, None))
            continue
        stats = Statistics([alarm.statistic], _utc(start), alarm.unit)
        stats.metric_data.extend(md for _, md in series[lo:hi])
        out.append((start, stats))
    return out


def decide(
    alarm: Alarm, periods: list[tuple[float, Any]], at: float
) -> tuple[str, str, dict[str, Any]] | None:
    """The state, StateReason and StateReasonData an evaluation gives; None: the state stays."""
    threshold, comparison = float(alarm.threshold), str(alarm.comparison_operator)
    words = models.COMPARISONS.get(comparison, comparison)
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    treat = alarm.treat_missing_data or "missing"
    present = [
        (start, float(s.get_statistics_for_type(alarm.statistic))) for start, s in periods if s is not None
    ]
    missing = len(periods) - len(present)
    breaching = [(start, v) for start, v in present if _breaches(v, comparison, threshold)]
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(at),
        "startDate": _iso(periods[-1][0]),
        "statistic": alarm.statistic,
        "period": int(alarm.period),
        "recentDatapoints": [v for _, v in present],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {
                "timestamp": _iso(start),
                "sampleCount": float(s.calc_sample_count()),
                "value": float(s.get_statistics_for_type(alarm.statistic)),
            }
            for start, s in periods
            if s is not None
        ],
    }
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return None
        return (
            "INSUFFICIENT_DATA",
            f"Insufficient Data: {missing} datapoint{'s were' if missing > 1 else ' was'} unknown.",
            data,
        )
    count = len(breaching) + (missing if treat == "breaching" else 0)
    state = "ALARM" if count >= needed else "OK"
    shown = breaching if state == "ALARM" else present
    listed = ", ".join(f"{v} ({_stamp(start)})" for start, v in shown)
    if not present:
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        plural = missing > 1
        reason = (
            f"Threshold Crossed: no datapoints were received for {missing} period{'s' if plural else ''} "
            f"and {missing} missing datapoint{'s were' if plural else ' was'} treated as [{kind}]."
        )
    elif state == "ALARM":
        reason = (
            f"Threshold Crossed: {len(breaching)} out of the last {len(periods)} datapoints [{listed}] "
            f"{'was' if len(breaching) == 1 else 'were'} {words} the threshold ({threshold})"
            + (f" (minimum {needed} datapoints for OK -> ALARM transition)." if needed > 1 else ".")
        )
    else:
        reason = (
            f"Threshold Crossed: {len(present)} datapoint{'s' if len(present) > 1 else ''} [{listed}] "
            f"{'was' if len(present) == 1 else 'were'} not {words} the threshold ({threshold})."
        )
    return state, reason, data


def evaluate(account_id: str, region: str, alarm: Alarm, now: float) -> None:
    """Evaluate ``alarm`` at every minute up to ``now`` that can change it (see the module docstring)."""
    if not alarm.metric_name or not alarm.statistic or alarm.period is None or alarm.threshold is None:
        return  # percentile (ExtendedStatistic) alarms are stored, not evaluated
    with _lock:
        last = getattr(alarm, "emu_evaluated_at", None)
        final = math.floor(now / MINUTE) * MINUTE
        if last is not None and final <= last:
            return
        series = _series(account_id, region, alarm)
        span = int(alarm.period) * int(alarm.evaluation_periods)
        due = {final}
        if last is not None:
            for t, _ in series:
                if t < last - span or t >= final:
                    continue
                first = math.floor(t / MINUTE) * MINUTE + MINUTE  # the first minute whose window holds t
                for minute in range(int(first), int(t + span) + MINUTE + 1, MINUTE):  # ... and the one after
                    if last < minute <= final:
                        due.add(minute)
        for minute in sorted(due):
            outcome = decide(alarm, _periods(alarm, series, minute), minute)
            if outcome is not None and outcome[0] != alarm.state_value:
                # the first evaluation of a new alarm is stamped when it happens, not at its window's minute
                when = max(_utc(minute), alarm.configuration_updated_timestamp)
                models.change_state(account_id, region, alarm, *outcome, when=when)
        alarm.emu_evaluated_at = final  # type: ignore[attr-defined]


def evaluate_all(now: float | None = None) -> None:
    """Every metric alarm of every account and region, up to ``now`` (default: the clock's now)."""
    at = clock.now() if now is None else now
    for account_id, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            for alarm in list(backend.alarms.values()):
                evaluate(account_id, region, alarm, at)


def _run() -> None:
    while True:
        _wake.wait(TICK_SECONDS)
        _wake.clear()
        try:
            evaluate_all()
        except Exception:  # one bad alarm must not stop evaluation for the process
            import logging

            logging.getLogger("emulator.cloudwatch").exception("alarm evaluation failed")


def ensure_thread() -> None:
    """Start the background evaluation once (the first alarm starts it)."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, daemon=True, name="cloudwatch-alarms")
            _thread.start()


def put_alarm(account_id: str, region: str, spec: dict[str, Any]) -> Alarm:
    """PutMetricAlarm: create (state INSUFFICIENT_DATA) or overwrite the configuration (state kept); then
    evaluate it once, as CloudWatch does right after."""
    models.check_alarm(spec, region)
    be = models.backend(account_id, region)
    name = str(spec["AlarmName"])
    old = be.alarms.get(name)
    if spec.get("Metrics"):  # metric math
        raise AwsError("NotImplemented", "The local AWS evaluates MetricName alarms only, not Metrics.", 501)
    kwargs = models.moto_kwargs(spec)
    if old is not None:
        kwargs.pop(
            "tags"
        )  # "If you are using this operation to update an existing alarm, any tags ... are ignored"
    alarm = be.put_metric_alarm(**kwargs)
    now = models.now_utc()
    alarm.configuration_updated_timestamp = now
    if old is not None and old is not alarm:
        alarm.state_value, alarm.state_reason = old.state_value, old.state_reason
        alarm.state_reason_data, alarm.state_updated_timestamp = (
            old.state_reason_data,
            old.state_updated_timestamp,
        )
        alarm.emu_history = models.history(old)  # type: ignore[attr-defined]
        alarm.emu_evaluated_at = getattr(old, "emu_evaluated_at", None)  # type: ignore[attr-defined]
        models.add_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update"}, now)
    else:
        alarm.state_value, alarm.state_reason = "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"
        alarm.state_reason_data, alarm.state_updated_timestamp = "{}", now
        alarm.emu_evaluated_at = None  # type: ignore[attr-defined]
        models.add_history(alarm, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create"}, now)
    evaluate(account_id, region, alarm, clock.now())
    ensure_thread()
    return alarm


clock.on_advance(evaluate_all)
