"""doit tasks: plan, deploy, status, send, destroy (see tasks/runner.py for the three readings).

`doit deploy` is a graph of subtasks, one per step (deploy:lf_role ... deploy:stream_logs), with
task_dep edges; DOIT_CONFIG runs them on threads. A subtask's `uptodate` is "its diff is empty"; the
diff computed there is cached and reused by the action, so each step reads AWS once.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from doit import get_var
from doit.exceptions import TaskFailed

from tasks.config import Config, from_doit_vars
from tasks.errors import Unhealthy, UserError, cli_action, describe, emit, eprint

_RUN: Any = None
_RUN_LOCK = threading.Lock()

FORMATS = ("text", "json")


def _flag(name: str) -> bool:
    raw = str(get_var(name, "0") or "0").strip().lower()
    if raw in ("1", "true", "yes", "y"):
        return True
    if raw in ("0", "false", "no", "n", ""):
        return False
    raise UserError(f"error: {name}={raw!r} is invalid: must be 1 or 0")


def _format() -> str:
    fmt = str(get_var("format", "text") or "text")
    if fmt not in FORMATS:
        raise UserError(f"error: format={fmt!r} is invalid: must be one of {', '.join(FORMATS)}")
    return fmt


def _run(include_checks: bool = False) -> Any:
    """The command's one Run (config, Clients, cached diffs), created on first use."""
    global _RUN
    from tasks.runner import Run

    with _RUN_LOCK:
        if _RUN is None:
            _RUN = Run(from_doit_vars(), {"repair": _flag("repair")}, include_checks=include_checks)
        return _RUN


# -- deploy -----------------------------------------------------------------------------------------


def _uptodate(name: str) -> bool:
    try:
        return bool(_run().uptodate(name))
    except Exception:  # the action reports it, naming the step
        return False


def _failed(message: str) -> TaskFailed:
    """Print the one-line error as it happens (among the other steps' progress); doit must not repeat it."""
    eprint(message)
    return TaskFailed(message, report=False)


def _apply(name: str) -> TaskFailed | None:
    try:
        _run().apply(name)
    except Exception as exc:
        message = describe(exc)[0]
        if not message.startswith(f"deploy:{name}"):
            message = f"deploy:{name} failed: {message}"
        return _failed(message)
    return None


def _summary() -> None:
    emit(_run().summary())


def _lock() -> TaskFailed | None:
    """One deploy per env at a time on this machine (tasks/lock.py); every step waits for this."""
    from tasks.lock import hold

    try:
        run = _run()
        hold(run.config, "deploy", run.ctx.account_id)
    except Exception as exc:
        return _failed(describe(exc)[0])
    return None


def _fail_action(exc: Exception) -> Callable[[], None]:
    """The action of a deploy whose input is bad: says why, exits with the input's code (2), calls nothing."""

    @cli_action
    def fail() -> None:
        raise exc

    return fail


def task_deploy() -> Iterator[dict[str, Any]]:
    """Converge the env: account setup, stack, grants, streams (doit deploy env=ENV [repair=1])."""
    from tasks.steps import all_steps

    yield {
        "basename": "deploy",
        "name": None,
        "doc": "Converge env=ENV: account setup, stack, Lake Formation grants, Firehose streams",
    }
    try:
        config = from_doit_vars()
    except UserError as exc:
        yield {"basename": "deploy", "name": "config", "actions": [_fail_action(exc)], "verbosity": 2}
        return
    names = []
    yield {"basename": "deploy", "name": "lock", "actions": [_lock], "uptodate": [False], "verbosity": 2}
    for step in all_steps(config):
        names.append(step.name)
        yield {
            "basename": "deploy",
            "name": step.name,
            "actions": [(_apply, [step.name])],
            "task_dep": ["deploy:lock", *(f"deploy:{d}" for d in step.deps)],
            "uptodate": [(_uptodate, [step.name])],
            "verbosity": 2,
        }
    yield {
        "basename": "deploy",
        "name": "summary",
        "actions": [_summary],
        "task_dep": [f"deploy:{n}" for n in names],
        "uptodate": [False],
        "verbosity": 2,
    }


# -- plan / status ---------------------------------------------------------------------------------


@cli_action
def _plan() -> None:
    from tasks.runner import plan_dict, plan_text

    fmt = _format()
    run = _run()
    results = run.plan()
    if fmt == "json":
        emit(json.dumps(plan_dict(run.config, results), indent=2, default=str))
    else:
        emit(plan_text(run.config, results))
    errors = [r for r in results if r.error]
    if errors:
        raise Unhealthy(f"error: plan could not read {errors[0].name}: {errors[0].error}")


def task_plan() -> dict[str, Any]:
    """Show what `doit deploy` would change, step by step; no mutating call."""
    return {
        "doc": "Show what deploy would change (format=json for JSON); no mutating call",
        "actions": [_plan],
        "uptodate": [False],
        "verbosity": 2,
    }


@cli_action
def _status() -> None:
    from tasks.runner import status_dict, status_text

    fmt = _format()
    run = _run(include_checks=True)
    results = [run.evaluate(name) for name in run.steps]
    doc = status_dict(run.config, run, results)
    from tasks.cli.ingest import receiver_line, receiver_status

    doc["receiver"] = receiver_status(run.config)  # shown, not part of health
    from tasks.table_facts import freshness

    doc["freshness"] = freshness(run.ctx.clients, run.config)  # one read per table; never unhealthy
    emit(json.dumps(doc, indent=2, default=str) if fmt == "json" else status_text(doc))
    if fmt != "json":
        emit(receiver_line(doc["receiver"], run.config.env))
    if not doc["healthy"]:
        raise Unhealthy(f"status env={run.config.env}: unhealthy")


def task_status() -> dict[str, Any]:
    """Every deployed item with its drift; exits non-zero when anything differs from the config."""
    return {
        "doc": "Show every item of the env with drift (format=json); exit 1 when unhealthy",
        "actions": [_status],
        "uptodate": [False],
        "verbosity": 2,
    }


# -- send ------------------------------------------------------------------------------------------


def _count() -> int:
    raw = str(get_var("count", "10") or "10")
    try:
        count = int(raw)
    except ValueError:
        raise UserError(f"error: count={raw!r} is invalid: must be an integer >= 1") from None
    if count < 1:
        raise UserError(f"error: count={raw!r} is invalid: must be an integer >= 1")
    return count


def _signals(config: Config) -> list[str]:
    raw = get_var("signal", None)
    if raw is None or raw == "":
        return list(config.signals)
    wanted = [s.strip() for s in str(raw).split(",") if s.strip()]
    for s in wanted:
        if s not in config.signals:
            raise UserError(
                f"error: signal={s!r} is unknown for env {config.env}: must be one of "
                f"{', '.join(config.signals)}"
            )
    return wanted


@cli_action
def _send() -> None:
    from lake.sender import send
    from tasks.aws import Clients

    config = from_doit_vars()
    signals = _signals(config)  # validated before any AWS call
    count = _count()
    clients = Clients(config)
    run_id, results = send(clients, config, signals, count)
    emit(f"run_id={run_id}")
    lost = 0
    for res in results:
        extra = f", {res.resent} resent" if res.resent else ""
        codes = f" ({', '.join(f'{k}: {v}' for k, v in res.errors.items())})" if res.errors else ""
        emit(f"{res.stream}: sent {res.sent}, failed {res.failed} in {res.calls} call(s){extra}{codes}")
        lost += res.failed
    if config.is_local:
        _local_hint(clients, config, signals)
    emit(
        f'look: doit query env={config.env} sql="select count(*) from {signals[0]} '
        f"where service_instance_id like '{run_id}:%'\""
    )
    emit(clients.counter.summary())
    if lost:
        raise Unhealthy(f"error: {lost} record(s) could not be delivered to Firehose after retries")


def _local_hint(clients: Any, config: Config, signals: list[str]) -> None:
    """Where the local rows land: flush the emulator's buffers, then show each table's metadata."""
    import urllib.request

    from botocore.exceptions import ClientError

    assert config.endpoint is not None
    try:
        req = urllib.request.Request(f"{config.endpoint.rstrip('/')}/_emulator/flush", method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            emit(f"emulator flush: {resp.read().decode().strip()}")
    except OSError as exc:
        emit(f"emulator flush failed: {exc}")
    arn = config.table_bucket_arn(clients.account_id)
    for s in signals:
        try:
            loc = clients.s3tables.get_table_metadata_location(
                tableBucketARN=arn, namespace=config.namespace, name=s
            )["metadataLocation"]
        except ClientError as exc:
            loc = f"unavailable ({exc.response.get('Error', {}).get('Code')})"
        emit(f"  {s}: metadata {loc}")
    emit(
        '  read one: python -c "from pyiceberg.table import StaticTable; '
        "print(StaticTable.from_metadata('<metadata>').scan().to_arrow().num_rows)\""
    )


def task_send() -> dict[str, Any]:
    """Send test records: doit send env=ENV [signal=NAME] [count=N]."""
    return {
        "doc": "Send test records to the env's streams (signal=NAME count=N); prints run_id",
        "actions": [_send],
        "uptodate": [False],
        "verbosity": 2,
    }


# -- destroy ---------------------------------------------------------------------------------------


@cli_action
def _destroy() -> None:
    from tasks.destroy import destroy
    from tasks.lock import hold
    from tasks.step import Context

    config = from_doit_vars()
    force = _flag("force")
    from tasks.aws import Clients

    clients = Clients(config)
    hold(config, "destroy", clients.account_id)
    code = destroy(Context(config, clients), force)
    if code:
        sys.exit(code)


def task_destroy() -> dict[str, Any]:
    """Delete the env (streams, stack, tables and data, error objects); account setup is kept."""
    return {
        "doc": "Delete env=ENV (force=1 without a terminal); keeps the account-level setup",
        "actions": [_destroy],
        "uptodate": [False],
        "verbosity": 2,
    }
