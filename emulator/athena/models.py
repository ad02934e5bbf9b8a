"""Athena query executions: their state, as ``GetQueryExecution`` shows it, per account and region.

A query is ``QUEUED`` when accepted, ``RUNNING`` once a worker (runner.py) takes it, then ``SUCCEEDED``,
``FAILED`` (``StateChangeReason`` and ``AthenaError`` say why) or ``CANCELLED`` (``StopQueryExecution``,
or the workgroup's ``BytesScannedCutoffPerQuery``: "Bytes scanned limit was exceeded"). A terminal state
never changes again. Times are the local AWS's clock (emulator/core/clock.py).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.athena.exceptions import InvalidRequestException
from emulator.core import clock
from emulator.core.state import RegionalState

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
TERMINAL = (SUCCEEDED, FAILED, CANCELLED)
CUTOFF_REASON = "Bytes scanned limit was exceeded"


@dataclass
class Execution:
    id: str
    account_id: str
    region: str
    query: str
    workgroup: str
    principal: str  # who runs it, as Lake Formation names principals
    context: dict[str, Any]
    result_configuration: dict[str, Any]  # the effective one; OutputLocation is the result file
    statement_type: str
    cutoff: int | None
    engine_version: dict[str, str]
    parameters: list[str] | None = None
    reuse: dict[str, Any] | None = None
    state: str = QUEUED
    reason: str | None = None
    error: dict[str, Any] | None = None
    submitted: float = field(default_factory=clock.now)
    started: float | None = None
    completed: float | None = None
    scanned: int = 0
    engine_ms: int = 0
    planning_ms: int = 0
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    connection: Any = field(default=None, repr=False)  # the DuckDB connection while it runs

    @property
    def output_location(self) -> str:
        return str(self.result_configuration["OutputLocation"])

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.error is not None:
            status["AthenaError"] = dict(self.error)
        end = self.completed if self.completed is not None else clock.now()
        total = int((end - self.submitted) * 1000)
        queued = int(((self.started or end) - self.submitted) * 1000)
        stats: dict[str, Any] = {
            "EngineExecutionTimeInMillis": self.engine_ms,
            "DataScannedInBytes": self.scanned,
            "TotalExecutionTimeInMillis": total,
            "QueryQueueTimeInMillis": queued,
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": self.planning_ms,
            "ServiceProcessingTimeInMillis": max(0, total - queued - self.engine_ms),
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }
        out: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": copy.deepcopy(self.result_configuration),
            "ResultReuseConfiguration": copy.deepcopy(
                self.reuse or {"ResultReuseByAgeConfiguration": {"Enabled": False}}
            ),
            "QueryExecutionContext": copy.deepcopy(self.context),
            "Status": status,
            "Statistics": stats,
            "WorkGroup": self.workgroup,
            "EngineVersion": dict(self.engine_version),
        }
        if self.parameters is not None:
            out["ExecutionParameters"] = list(self.parameters)
        return out


@dataclass
class _State:
    executions: dict[str, Execution] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # ClientRequestToken -> (query, id)


lock = threading.RLock()
_state: RegionalState[_State] = RegionalState(_State, lock)
_live: dict[str, Execution] = {}  # not yet terminal, in any account and region: what a reset stops


def state(account_id: str, region: str) -> _State:
    return _state(account_id, region)


def add(execution: Execution, token: str | None) -> None:
    with lock:
        st = _state(execution.account_id, execution.region)
        st.executions[execution.id] = execution
        _live[execution.id] = execution
        if token:
            st.tokens[token] = (execution.query, execution.id)


def by_token(account_id: str, region: str, token: str | None, query: str) -> Execution | None:
    """The execution a repeated ``ClientRequestToken`` names; a different query under it is refused."""
    if not token:
        return None
    with lock:
        st = _state(account_id, region)
        seen = st.tokens.get(token)
        if seen is None:
            return None
        if seen[0] != query:
            raise InvalidRequestException(
                "Idempotent parameters do not match: the ClientRequestToken was used with another query"
            )
        return st.executions.get(seen[1])


def get(account_id: str, region: str, execution_id: str) -> Execution:
    with lock:
        found = _state(account_id, region).executions.get(execution_id)
    if found is None:
        raise InvalidRequestException(f"QueryExecution {execution_id} was not found")
    return found


def in_workgroup(account_id: str, region: str, workgroup: str) -> list[Execution]:
    """The workgroup's executions, newest first (ListQueryExecutions' order)."""
    with lock:
        found = [e for e in _state(account_id, region).executions.values() if e.workgroup == workgroup]
    return sorted(found, key=lambda e: e.submitted, reverse=True)


def forget_workgroup(account_id: str, region: str, workgroup: str) -> None:
    with lock:
        st = _state(account_id, region)
        for execution in [e for e in st.executions.values() if e.workgroup == workgroup]:
            execution.stop.set()
            st.executions.pop(execution.id, None)


def start_running(execution: Execution) -> bool:
    with lock:
        if execution.state != QUEUED:
            return False
        execution.state, execution.started = RUNNING, clock.now()
        return True


def finish(
    execution: Execution,
    new_state: str,
    reason: str | None = None,
    error: dict[str, Any] | None = None,
) -> bool:
    """Move to a terminal state, unless one was reached already (a stop and a finish race: first wins)."""
    with lock:
        if execution.state in TERMINAL:
            return False
        execution.state, execution.reason, execution.error = new_state, reason, error
        execution.completed = clock.now()
        if execution.started is None:
            execution.started = execution.completed
        _live.pop(execution.id, None)
        return True


def take_live() -> list[Execution]:
    """Every execution not yet finished, forgotten here (the reset stops them)."""
    with lock:
        live = list(_live.values())
        _live.clear()
        return live
