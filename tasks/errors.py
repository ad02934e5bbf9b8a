"""One place that turns exceptions into a one-line message and an exit code: the tool's one exit-code map.

Every doit action wraps its body with `cli_action`, so the user never sees a traceback for an
expected failure (bad input, missing credentials, an AWS error), and each kind keeps its own exit code.
An exception of ours carries its code (`exit_code`); botocore's are mapped in describe(). EXIT_CODES is
the table the README prints (tests/unit/tasks/test_exit_codes.py keeps the two equal).
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    WaiterError,
)

EXIT_OK = 0
EXIT_FAILED = 1  # a step failed, status/doctor found a problem, or the env is not deployed
EXIT_USAGE = 2  # bad input: nothing was called
EXIT_DOIT = 3  # doit's own: it refused the command line (an unknown task or option) before ours ran
EXIT_AWS = 4
EXIT_CHANGES = 5  # plan with detailed exit codes: there are changes to make
EXIT_CONSENT = 6  # deploy refused: a change deletes or replaces data and `drop=` does not name it
EXIT_CREDENTIALS = 7  # not 3: doit exits 3 for a mistyped task name, which must not read as this
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success; `plan detailed=1`: no changes; `destroy` of an env that is gone",
    EXIT_FAILED: "a command's work failed (a deploy step, the local AWS's start), `status` or `doctor` "
    "found a problem, `send` lost records, or the env is not deployed (`send`, `query`, `tables`, `connect`, "
    "`ingest`)",
    EXIT_USAGE: "bad input: a value, an unknown key, an env without a config file, another checkout's local "
    "AWS on the env's port; refused before any AWS call and nothing changed (SQL that DuckDB refuses, an "
    "unconfirmed `destroy`, and a change `plan` and `deploy` refuse, such as a table change Iceberg cannot "
    "make in place, after their reads)",
    EXIT_DOIT: "doit itself refused the command line: a task name or an option it does not know "
    "(`doit plna`), before any of ours ran",
    EXIT_AWS: "an AWS error: a call was refused or failed, or the endpoint cannot be reached",
    EXIT_CHANGES: "`plan detailed=1`: there are changes to make",
    EXIT_CONSENT: "`deploy` refused a change that deletes or replaces data: `drop=` does not name it",
    EXIT_CREDENTIALS: "no AWS credentials, or the profile named does not exist",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); running the command again picks up from what exists",
}


def emit(message: object, stream: TextIO | None = None) -> None:
    """print() to stdout, safe while doit's thread runner swaps ``sys.stdout`` under us.

    A bare print() holds only a borrowed reference to sys.stdout (CPython gh-130163): when a doit worker
    restores sys.stdout mid-print, the capture Writer is freed and the process segfaults. Binding the
    stream to a local first keeps it alive for the whole call.
    """
    out = sys.stdout if stream is None else stream
    print(message, file=out, flush=True)


def eprint(message: str) -> None:
    emit(message, sys.stderr)


class UserError(Exception):
    """Bad input. Raised before any AWS call; the message names the value and the rule."""

    exit_code = EXIT_USAGE


class ConsentRequired(UserError):
    """Deploy refused before any write: a change deletes or replaces data and `drop=` does not name it."""

    exit_code = EXIT_CONSENT


class StepFailed(Exception):
    """A deploy/destroy step failed; the message names the step and the reason."""

    exit_code = EXIT_FAILED


class Unhealthy(Exception):
    """status/doctor found something missing or drifted (already printed)."""

    exit_code = EXIT_FAILED


class NotDeployed(Exception):
    """The command needs a deployed env (its stack, streams or tables) and finds none."""

    exit_code = EXIT_FAILED


class Failed(Exception):
    """A failure that keeps its cause's code (a plan step's AWS error exits 4, not 1)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ChangesPending(Exception):
    """`doit plan detailed=1` found changes: exit 5, as terraform's -detailed-exitcode exits 2."""

    exit_code = EXIT_CHANGES


def describe(exc: BaseException) -> tuple[str, int]:
    """Return (one-line message, exit code) for any exception the tool can meet."""
    code = getattr(exc, "exit_code", None)
    if isinstance(exc, Exception) and isinstance(code, int):  # ours: the code it carries
        return str(exc), code
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "error: no AWS credentials found. Set AWS_PROFILE or profile=NAME, run `aws configure`, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            EXIT_CREDENTIALS,
        )
    if isinstance(exc, ProfileNotFound):
        return (
            f"error: {exc} (set profile=NAME to one listed by `aws configure list-profiles`)",
            EXIT_CREDENTIALS,
        )
    if isinstance(exc, NoRegionError):
        return "error: no AWS region: set region=NAME or `region:` in the env's config file", EXIT_USAGE
    if isinstance(exc, EndpointConnectionError):
        return f"error: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}", EXIT_AWS
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = exc.operation_name
        return f"error: {op} failed: {err.get('Code', '?')}: {err.get('Message', '')}", EXIT_AWS
    if isinstance(exc, WaiterError):
        return f"error: {exc}", EXIT_AWS
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted: re-run the same command to converge", EXIT_INTERRUPTED
    return f"error: {type(exc).__name__}: {exc}", EXIT_FAILED


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError (never its message)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


F = TypeVar("F", bound=Callable[..., Any])


class ActionExit(SystemExit):
    """SystemExit that survives doit's thread runner, which re-raises `type(exc)(str(exc))` in the main
    thread: the code comes back as a string, and a plain SystemExit("2") would print "2" and exit 1."""

    def __init__(self, code: int | str | None = None) -> None:
        super().__init__(int(code) if isinstance(code, str) and code.lstrip("-").isdigit() else code)


def cli_action(func: F) -> F:
    """Wrap a doit python-action: print the one-line error and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as exc:  # the one place exceptions become exit codes
            message, code = describe(exc)
            if message:
                emit(message, sys.stderr)
            # Free what the failed action's frames hold (a DuckDB connection, even closed) now: kept alive
            # by this traceback until the interpreter exits, a DuckDB database is torn down during
            # finalization, which can abort the process ("terminate called without an active
            # exception", exit -6) after the error was printed.
            traceback.clear_frames(exc.__traceback__)
            raise ActionExit(code) from None

    return wrapper  # type: ignore[return-value]
