"""Every doit variable (`key=value` on the command line), read and checked here and nowhere else.

Each reader raises UserError with one line naming the value and the rule (exit 2, before any AWS call).
A command module asks this module for its input; it never calls doit.get_var itself. A key that is
neither a setting nor one of COMMAND_VARS is refused before anything runs (check_keys), naming the
closest known key, as a config file's unknown setting is.
"""

from __future__ import annotations

import re
import secrets
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doit import get_var

from tasks.config import Config, load, normalize_env, setting_keys
from tasks.errors import UserError
from tasks.validation import unknown_hint

if TYPE_CHECKING:
    from tasks.runner import Run

FORMATS = ("text", "json")  # plan, status, tables; query adds csv (tasks/query_format.py)
MACHINE_FORMATS = ("json", "csv")  # stdout is only the document (tasks/cli/reporter.py)
DEFAULT_LIMIT = 100
# Every command variable some command reads, besides the settings (setting_keys()).
COMMAND_VARS = (
    "env",
    "force",
    "repair",
    "show",
    "format",
    "detailed",
    "count",
    "signal",
    "limit",
    "sql",
    "port",
    "host",
    "token",
    "output",
    "drop",
    "engine",
    "role",
    "dry_run",
)


def raw(name: str) -> str | None:
    """The variable as given, or None when it was not given."""
    value = get_var(name, None)
    return None if value is None else str(value)


def given() -> dict[str, str]:
    """Every `key=value` of the command line. doit keeps them in doit.doit_cmd._CMDLINE_VARS (None outside
    a doit run); get_var reads one by name, and nothing else lists them, so an unknown key is seen here."""
    from doit import doit_cmd

    store = getattr(doit_cmd, "_CMDLINE_VARS", None) or {}
    return {str(k): str(v) for k, v in store.items()}


def check_keys() -> None:
    """Refuse a key no command reads (`firehose.bufering_interval_seconds=30`): it would be ignored."""
    known = [*COMMAND_VARS, *setting_keys()]
    for key, value in given().items():
        if key not in known:
            raise UserError(
                f"error: unknown key {key}={value} on the command line: {unknown_hint(key, known, 'keys')}"
            )


def env_name(env_default: str = "local") -> str:
    """The env named on the command line, for doit's own state file (dodo.py); not validated."""
    return normalize_env(get_var("env", env_default) or env_default)


def overrides() -> dict[str, str]:
    """The `key=value` settings given on the command line (every key of setting_keys())."""
    out: dict[str, str] = {}
    for key in setting_keys():
        value = get_var(key, None)
        if value is not None:
            out[key] = str(value)
    return out


def config(env_default: str = "local") -> Config:
    """The env's config with every `key=value` doit variable applied (for task creators and actions).

    Reads `env` and each key of setting_keys() through doit.get_var; raises UserError like load(), and for
    a key on the command line that no command reads.
    """
    check_keys()
    env = get_var("env", None)
    if env is None:  # not given; an explicit `env=` (empty) is refused by load()
        env = env_default
    given: dict[str, Any] = dict(overrides())
    return load(str(env), given)


def flag(name: str) -> bool:
    """A yes/no variable (`force`, `repair`): 1/true/yes/y or 0/false/no/n/empty."""
    value = str(get_var(name, "0") or "0").strip().lower()
    if value in ("1", "true", "yes", "y"):
        return True
    if value in ("0", "false", "no", "n", ""):
        return False
    raise UserError(f"error: {name}={value!r} is invalid: must be 1 or 0")


def choice(name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`; the first is the default."""
    value = str(get_var(name, allowed[0]) or allowed[0])
    if value not in allowed:
        raise UserError(f"error: {name}={value!r} is invalid: must be one of {', '.join(allowed)}")
    return value


def output_format(allowed: tuple[str, ...] = FORMATS) -> str:
    return choice("format", allowed)


def machine_format() -> bool:
    """`format=json|csv`, or `doit connect grafana` (its stdout is the provisioning file): doit's own lines
    go to stderr (read before the format is validated)."""
    words = sys.argv[1:]
    grafana = any(w == "connect" and words[i + 1 : i + 2] == ["grafana"] for i, w in enumerate(words))
    return grafana or str(get_var("format", "") or "").lower() in MACHINE_FORMATS


def count() -> int:
    """`doit send count=N`: records per stream, at least one."""
    value = str(get_var("count", "10") or "10")
    try:
        n = int(value)
    except ValueError:
        raise UserError(f"error: count={value!r} is invalid: must be an integer >= 1") from None
    if n < 1:
        raise UserError(f"error: count={value!r} is invalid: must be an integer >= 1")
    return n


def signals(config: Config) -> list[str]:
    """`doit send signal=a,b`: a subset of the env's signals (all of them when not given)."""
    value = get_var("signal", None)
    if value is None or value == "":
        return list(config.signals)
    wanted = [s.strip() for s in str(value).split(",") if s.strip()]
    for s in wanted:
        if s not in config.signals:
            raise UserError(
                f"error: signal={s!r} is unknown for env {config.env}: must be one of "
                f"{', '.join(config.signals)}"
            )
    return wanted


_TOKEN = re.compile(r"^[a-z0-9_]+$")


def drop(config: Config) -> tuple[str, ...]:
    """`drop=traces,histogram`: consent, by name, to deploy's changes that delete data (a kept table).

    An active signal is refused here (its table is in use: take it out of `signals` first, and the table
    is kept; then drop= can name it). Whether a name matches something deploy would delete is known only
    after reading (tasks/runner.py refuses, before any write, a name that matches nothing)."""
    value = get_var("drop", None)
    if value is None or not str(value).strip():
        return ()
    tokens = tuple(dict.fromkeys(t.strip() for t in str(value).split(",") if t.strip()))
    for token in tokens:
        if not _TOKEN.match(token):
            raise UserError(f"error: drop={token!r} is invalid: must be a table name such as traces")
        if token in config.signals:
            raise UserError(
                f"error: drop={token} is refused: {token} is an active signal of env {config.env}; remove it "
                f"from signals first (its table is then kept, not ingesting), then drop={token} deletes it"
            )
    return tokens


def limit() -> int:
    """`doit query limit=N`: rows shown, 0 for all."""
    value = str(get_var("limit", str(DEFAULT_LIMIT)) or DEFAULT_LIMIT)
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise UserError(f"error: limit={value!r} is invalid: must be an integer >= 0 (0 shows every row)")
    return n


def engine(names: tuple[str, ...]) -> str:
    """`doit query engine=NAME`: one of the registered engines (tasks/engines/), the first by default."""
    return choice("engine", names)


def sql() -> str | None:
    """`doit query sql="..."`; None opens the shell."""
    return raw("sql")


def port(default: int) -> int:
    """`port=N` for `doit emulator` and `doit ingest`: a TCP port (the default when not given)."""
    value = get_var("port", None)
    if value is None or value == "":
        return default
    try:
        n = int(str(value))
    except ValueError:
        raise UserError(f"error: port={value!r} is invalid: must be an integer between 1 and 65535") from None
    if not 1 <= n <= 65535:
        raise UserError(f"error: port={value!r} is invalid: must be an integer between 1 and 65535")
    return n


def host() -> str:
    """`doit ingest host=H`: the address the receiver listens on."""
    return str(get_var("host", "127.0.0.1") or "127.0.0.1")


def token(config: Config) -> str | None:
    """`doit ingest token=new|T`: a fresh token, a given one (checked like the setting), or the env's."""
    value = get_var("token", None)
    if value == "new":
        return secrets.token_urlsafe(24)
    if value:
        return load(config.env, {"ingest.token": value, "endpoint": config.endpoint}).ingest.token
    return config.ingest.token


def output(config: Config) -> Path:
    """`doit template output=PATH`: a file path (build/ENV/template.yaml when not given)."""
    from tasks import template

    value = get_var("output", None)
    if value is None:
        return template.default_path(config)
    if not str(value).strip():
        raise UserError("error: output='' is invalid: must be a file path for the rendered template")
    path = Path(value).expanduser().resolve()
    if path.is_dir():
        raise UserError(f"error: output={value!r} is a directory: must be a file path for the template")
    return path


_ROLE_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::\d{12}:role(/[\x21-\x2e\x30-\x7e]+)*/[\w+=,.@-]{1,64}$"
)


def role_arn(config: Config) -> str | None:
    """`doit connect grafana role=ARN`: the role Grafana's data source assumes (None: the default chain)."""
    value = get_var("role", None)
    if value is None or not str(value).strip():
        return None
    match = _ROLE_RE.fullmatch(str(value))
    if not match or match["partition"] != config.partition:
        raise UserError(
            f"error: role={value!r} is invalid: must be an IAM role ARN of {config.region}'s partition, "
            f"arn:{config.partition}:iam::ACCOUNT:role/NAME (path included)"
        )
    return str(value)


def output_dir(config: Config, name: str) -> Path:
    """`output=DIR` for a command that writes several files: a folder (build/ENV/NAME when not given)."""
    value = get_var("output", None)
    if value is None:
        return config.build_dir / name
    if not str(value).strip():
        raise UserError(f"error: output='' is invalid: must be a folder for the {name} files")
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise UserError(f"error: output={value!r} is a file: must be a folder for the {name} files")
    return path


class CommandRun:
    """One command's Run (config, Clients, cached diffs), built from these variables on first use.

    Each task creator makes its own, so in `doit plan status` each command gets the options it asked for
    (status its read-only checks); the deploy subtasks share their command's one, so each step reads AWS once.
    """

    def __init__(self, *, include_checks: bool = False) -> None:
        self.include_checks = include_checks
        self._run: Run | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Run:
        from tasks.runner import Run  # boto3 and the steps load only when a task runs
        from tasks.step import Options

        with self._lock:
            if self._run is None:
                cfg = config()
                options = Options(repair=flag("repair"), drop=drop(cfg))
                self._run = Run(cfg, options, include_checks=self.include_checks)
            return self._run
