"""`doit deploy env=ENV [repair=1]`: converge the env (see tasks/runner.py for the three readings).

`doit deploy` is a graph of subtasks, one per step (deploy:lf_role ... deploy:stream_logs), with
task_dep edges; DOIT_CONFIG runs them on threads. A subtask's `uptodate` is "its diff is empty"; the
diff computed there is cached and reused by the action, so each step reads AWS once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from doit.exceptions import TaskFailed

from tasks.cli import args
from tasks.errors import UserError, cli_action, describe, emit, eprint

# -- deploy -----------------------------------------------------------------------------------------


def _uptodate(run: args.CommandRun, name: str) -> bool:
    try:
        return bool(run().uptodate(name))
    except Exception:  # the action reports it, naming the step
        return False


def _failed(message: str) -> TaskFailed:
    """Print the one-line error as it happens (among the other steps' progress); doit must not repeat it."""
    eprint(message)
    return TaskFailed(message, report=False)


def _apply(run: args.CommandRun, name: str) -> TaskFailed | None:
    try:
        run().apply(name)
    except Exception as exc:
        message = describe(exc)[0]
        if not message.startswith(f"deploy:{name}"):
            message = f"deploy:{name} failed: {message}"
        return _failed(message)
    return None


@cli_action
def _check(run: args.CommandRun) -> None:
    """Before any step writes: refusals (exit 2) and data-losing changes without drop= (exit 6)."""
    run().check()


def _summary(run: args.CommandRun) -> None:
    emit(run().summary())


@cli_action
def _lock(command_run: args.CommandRun) -> None:
    """One deploy per env at a time on this machine (tasks/lock.py); every step waits for this.

    It makes the command's first calls (GetCallerIdentity, the caller's role), so what stops a deploy
    before any step (credentials 3, an unreachable endpoint 4, an env without a config file 2, the env
    locked 1) exits with its own code, as every other command does.
    """
    from tasks.lock import hold

    run = command_run()
    hold(run.config, "deploy", run.ctx.account_id)


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
        config = args.config()
        args.drop(config)  # a bad drop= is bad input: exit 2 before any call
    except UserError as exc:
        yield {"basename": "deploy", "name": "config", "actions": [_fail_action(exc)], "verbosity": 2}
        return
    run = args.CommandRun()  # this command's one Run, shared by its subtasks
    names = []
    yield {
        "basename": "deploy",
        "name": "lock",
        "actions": [(_lock, [run])],
        "uptodate": [False],
        "verbosity": 2,
    }
    yield {
        "basename": "deploy",
        "name": "check",
        "actions": [(_check, [run])],
        "task_dep": ["deploy:lock"],
        "uptodate": [False],
        "verbosity": 2,
    }
    for step in all_steps(config):
        names.append(step.name)
        yield {
            "basename": "deploy",
            "name": step.name,
            "actions": [(_apply, [run, step.name])],
            "task_dep": ["deploy:check", *(f"deploy:{d}" for d in step.deps)],
            "uptodate": [(_uptodate, [run, step.name])],
            "verbosity": 2,
        }
    yield {
        "basename": "deploy",
        "name": "summary",
        "actions": [(_summary, [run])],
        "task_dep": [f"deploy:{n}" for n in names],
        "uptodate": [False],
        "verbosity": 2,
    }
