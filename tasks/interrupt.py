"""Ctrl-C during a doit command exits 130 with one line, and stops what would go on billing.

doit runs every task on a worker thread (DOIT_CONFIG's thread runner), and Python raises
KeyboardInterrupt only in the main thread: inside doit's runner, which re-raises it past its own error
handling, so the process died by SIGINT with a traceback and none of a task's own cleanup ran. While a
command runs, SIGINT instead runs what the running tasks registered (`on_interrupt`: an Athena query is
stopped, as a query left running keeps scanning), prints one line and exits EXIT_INTERRUPTED. Whatever a
step was doing is left as AWS has it; the next run of the same command picks up from there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from tasks.errors import EXIT_INTERRUPTED

MESSAGE = "interrupted: re-run the same command to converge"

_cleanups: list[Callable[[], None]] = []
_lock = threading.Lock()


@contextlib.contextmanager
def on_interrupt(cleanup: Callable[[], None]) -> Iterator[None]:
    """Run `cleanup` if the command is interrupted while the block runs."""
    with _lock:
        _cleanups.append(cleanup)
    try:
        yield
    finally:
        with _lock:
            _cleanups.remove(cleanup)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    with _lock:
        pending = list(_cleanups)
    for cleanup in pending:
        with contextlib.suppress(Exception):  # best effort: the exit below must happen
            cleanup()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.write(f"\n{MESSAGE}\n")
        sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)  # not SystemExit: doit's worker threads would hold the exit up


def install() -> Any:
    """Take SIGINT for the rest of a command; returns the handler it replaced (None off the main
    thread, where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _interrupted)


def restore(previous: Any) -> None:
    """Give SIGINT back, once the command is over (commands run in-process, as the tests run them)."""
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)
