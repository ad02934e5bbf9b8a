"""The embedded local AWS: moto in server mode behind our WSGI layer (see emulator/server.py).

``data_dir()`` is where file-backed state lives (Iceberg warehouse, ...). It is emptied on start and on
``POST /_emulator/reset``, since files without their in-memory moto state are meaningless.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PORT = 4566
ACCOUNT_ID = "123456789012"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / ".emulator" / "data"

_data_dir: Path = DEFAULT_DATA_DIR


def data_dir() -> Path:
    """The current data dir (created on demand)."""
    _data_dir.mkdir(parents=True, exist_ok=True)
    return _data_dir


def set_data_dir(path: Path) -> None:
    global _data_dir
    _data_dir = Path(path).resolve()
