"""Process-wide emulator state: the account, default port, checkout, and the data dir for file-backed state.

``data_dir()`` is where file-backed state lives (Iceberg warehouse, ...). It is emptied on start and on
``POST /_emulator/reset``, since files without their in-memory moto state are meaningless.
``RegionalState`` is one state object per (account, region) for our handlers, dropped by the reset.
The data dir is emptied in the reset's last phase (``wipe_data_dir``).
``CHECKOUT`` is the checkout this code runs from: the health answer names it, so the tool of another
checkout never takes this emulator (and its state) for its own.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from emulator.core.registry import RESET_DATA_DIR, register_reset

DEFAULT_PORT = 4566
ACCOUNT_ID = "123456789012"
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CHECKOUT = REPO_ROOT
DEFAULT_DATA_DIR = REPO_ROOT / ".emulator" / "data"


def default_data_dir(port: int) -> Path:
    """Each port its own data dir under the checkout's `.emulator/`: an emulator empties its data dir on
    start, so two on one checkout must never share one."""
    return DEFAULT_DATA_DIR if port == DEFAULT_PORT else DEFAULT_DATA_DIR.with_name(f"data-{port}")


_data_dir: Path = DEFAULT_DATA_DIR


def data_dir() -> Path:
    """The current data dir (created on demand)."""
    _data_dir.mkdir(parents=True, exist_ok=True)
    return _data_dir


def set_data_dir(path: Path) -> None:
    global _data_dir
    _data_dir = Path(path).resolve()


def wipe_data_dir() -> None:
    """Empty the data dir (the last step of every reset)."""
    root = data_dir()
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


register_reset(wipe_data_dir, RESET_DATA_DIR)


_S = TypeVar("_S")


class RegionalState(Generic[_S]):
    """One state object per (account, region), made on first use and dropped by the admin reset.

    Callers hold their own module lock around reads and writes; the reset takes ``lock`` (pass theirs).
    """

    def __init__(self, factory: Callable[[], _S], lock: threading.Lock | threading.RLock) -> None:
        self._factory = factory
        self._lock = lock
        self._states: dict[tuple[str, str], _S] = {}
        register_reset(self.reset)

    def reset(self) -> None:
        with self._lock:
            self._states.clear()

    def __call__(self, account_id: str, region: str) -> _S:
        key = (account_id, region)
        if key not in self._states:
            self._states[key] = self._factory()
        return self._states[key]
