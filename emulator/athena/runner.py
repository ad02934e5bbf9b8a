"""The workers: each accepted query runs on a thread of its own, as Athena runs it after answering the
call, so clients poll ``GetQueryExecution`` as they do on AWS.

QUEUED until one of ``SLOTS`` is free (the machine's two cores; more queries wait their turn), RUNNING
while DuckDB runs it (engine.py) over the tables it names (sources.py), then SUCCEEDED with its result files
written (output.py), FAILED, or CANCELLED: by ``StopQueryExecution`` (DuckDB is interrupted), or by the
workgroup's ``BytesScannedCutoffPerQuery`` when it read more ("Bytes scanned limit was exceeded", its
``DataScannedInBytes`` the cutoff, no result files). The latency faults ``athena_queued_seconds`` and
``athena_running_seconds`` hold a query in each state, so tests see them without racing.
With ``PublishCloudWatchMetricsEnabled`` the workgroup's queries publish ``AWS/Athena`` metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from emulator.admin import faults
from emulator.athena import dialect, engine, models, output, results, sources, workgroups
from emulator.athena.dialect import QueryFailure
from emulator.athena.models import CANCELLED, CUTOFF_REASON, FAILED, SUCCEEDED, Execution
from emulator.core.registry import register_reset

log = logging.getLogger("emulator.athena")
SLOTS = threading.BoundedSemaphore(2)


def submit(execution: Execution) -> None:
    since = time.monotonic()
    thread = threading.Thread(
        target=_work, args=(execution, since), name=f"athena-{execution.id[:8]}", daemon=True
    )
    thread.start()


def stop(execution: Execution, reason: str | None = None) -> bool:
    """Cancel a query that has not finished (DuckDB interrupted if it runs); False when it had."""
    if not models.finish(execution, CANCELLED, reason):
        return False
    execution.stop.set()
    faults.wake()
    conn = execution.connection
    if conn is not None:
        conn.interrupt()
    return True


@register_reset
def _stop_all() -> None:
    for execution in models.take_live():
        stop(execution)


def _work(execution: Execution, since: float) -> None:
    try:
        faults.hold(faults.ATHENA_QUEUED_SECONDS, since, execution.stop)
        with SLOTS:
            if execution.stop.is_set() or not models.start_running(execution):
                return
            faults.hold(faults.ATHENA_RUNNING_SECONDS, time.monotonic(), execution.stop)
            if not execution.stop.is_set():
                _run(execution)
    except Exception as exc:  # an emulator bug fails the query (and leaves a trace), never the thread
        log.exception("athena query %s failed", execution.id)
        models.finish(execution, FAILED, f"GENERIC_INTERNAL_ERROR: {exc}", _error(1, 100, str(exc)))
    finally:
        _publish(execution)


def _error(category: int, kind: int, message: str) -> dict[str, Any]:
    return {"ErrorCategory": category, "ErrorType": kind, "Retryable": False, "ErrorMessage": message}


def _connection(execution: Execution) -> Any:
    def hook(conn: Any) -> None:
        execution.connection = conn
        if conn is not None and execution.stop.is_set():
            conn.interrupt()

    return hook


def _run(execution: Execution) -> None:
    context = sources.Context.of(execution.context)
    try:
        checked = dialect.check(dialect.bind(execution.query, execution.parameters))
        tables = sources.resolve(
            execution.account_id, execution.region, execution.principal, context, checked.tables
        )
        outcome = engine.run(
            checked, tables, context, execution.account_id, execution.region, _connection(execution)
        )
    except QueryFailure as failure:
        error = _error(failure.category, failure.error_type, failure.reason)
        models.finish(execution, FAILED, failure.reason, error)
        return
    except engine.Interrupted:
        return  # stopped: already CANCELLED
    execution.engine_ms, execution.planning_ms = outcome.engine_ms, outcome.planning_ms
    execution.scanned = outcome.bytes_read
    if execution.cutoff is not None and outcome.bytes_read > execution.cutoff:
        execution.scanned = execution.cutoff
        models.finish(execution, CANCELLED, CUTOFF_REASON)
        return
    columns = [results.column_info(name, kind) for name, kind in outcome.columns]
    names = [name for name, _ in outcome.columns]
    header = names if checked.statement_type == "DML" else None
    try:
        rows = list(results.rows_as_text(outcome.table))
        if execution.stop.is_set():
            return
        output.write(
            execution.account_id, execution.region, execution.result_configuration, header, rows, columns
        )
    except output.WriteFailed as exc:
        reason = f"Failed to write query results to Amazon S3: {exc}"
        models.finish(execution, FAILED, reason, _error(1, 401, reason))
        return
    models.finish(execution, SUCCEEDED)


def _publish(execution: Execution) -> None:
    """``AWS/Athena`` metrics for a finished query of a workgroup that publishes them."""
    if execution.state not in models.TERMINAL:
        return
    try:
        wg = workgroups.find(execution.account_id, execution.region, execution.workgroup)
    except Exception:
        return
    if not wg.configuration.get("PublishCloudWatchMetricsEnabled"):
        return
    from emulator.cloudwatch import metrics

    stats = execution.describe()["Statistics"]
    state = "CANCELED" if execution.state == CANCELLED else execution.state
    metrics.put(
        execution.account_id,
        execution.region,
        "AWS/Athena",
        {"QueryState": state, "QueryType": execution.statement_type, "WorkGroup": execution.workgroup},
        {
            "ProcessedBytes": (stats["DataScannedInBytes"], "Bytes"),
            "TotalExecutionTime": (stats["TotalExecutionTimeInMillis"], "Milliseconds"),
            "EngineExecutionTime": (stats["EngineExecutionTimeInMillis"], "Milliseconds"),
            "QueryQueueTime": (stats["QueryQueueTimeInMillis"], "Milliseconds"),
            "QueryPlanningTime": (stats["QueryPlanningTimeInMillis"], "Milliseconds"),
            "ServiceProcessingTime": (stats["ServiceProcessingTimeInMillis"], "Milliseconds"),
        },
    )
