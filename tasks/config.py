"""Env configuration: config/defaults.yaml, merged with config/envs/ENV.yaml, merged with key=value.

Everything is validated here, before any AWS call: a bad value raises UserError with one line that names
the value and the rule. Names of every AWS resource of an env are derived here and nowhere else, and so
is every ARN the tool builds (Config's ARN methods, in the region's partition).

The config directory is `config/` in the repo; `OTLP2PIPELINE_CONFIG_DIR` points elsewhere (tests, or a
team that keeps its env files outside the checkout).

This module reads the files and the command line's overrides and merges them; tasks/settings_table.py is
the table of every setting (SETTINGS), tasks/settings.py the section dataclasses and Config with its
names and ARNs, tasks/validation.py
turns a merged document into a Config, lake/regions.py has the partition data and the one ARN format.
Import them all from here (`tasks.config.load`, `tasks.config.Config`, ...).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from lake.regions import (
    NO_ICEBERG_PARTITIONS,
    NO_ICEBERG_REGIONS,
    arn,
    has_iceberg_destination,
    partition,
)
from tasks.errors import UserError
from tasks.paths import CONFIG_DIR, CONFIG_DIR_VAR, ENV_DIR, ROOT
from tasks.settings import (
    ACCOUNT_ID_LEN,
    CATALOG_NAME,
    ENV_TAG,
    MAX_BUCKET_NAME,
    PROJECT,
    AlarmSettings,
    Config,
    FirehoseSettings,
    IngestSettings,
    RetentionSettings,
    TableSettings,
)
from tasks.settings_table import SETTINGS, Kind
from tasks.validation import closest, max_env_length, unknown_hint, validate, validate_env_name

# -- loading --------------------------------------------------------------------------------------


def config_dir() -> Path:
    """The directory holding defaults.yaml and envs/: `OTLP2PIPELINE_CONFIG_DIR` or the repo's config/."""
    override = os.environ.get(CONFIG_DIR_VAR)
    return Path(override).resolve() if override else CONFIG_DIR


def env_file(env: str) -> Path:
    return config_dir() / "envs" / f"{env}.yaml"


def config_files(env: str) -> list[Path]:
    """The files an env's config is read from (those that exist): doit file_deps for rendering."""
    return [p for p in (config_dir() / "defaults.yaml", env_file(env)) if p.exists()]


def normalize_env(env: str) -> str:
    """`otlp2pipeline-prod` and `prod` name the same env, as in the bash scripts."""
    return env.removeprefix(f"{PROJECT}-")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice: YAML would silently keep the last one."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_yaml(path: Path) -> dict[str, Any]:
    where = _display(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(
            f"error: {where}: cannot be read ({exc.strerror}): the config file must be readable"
        ) from None
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise UserError(f"error: {where}{line}: {problem}: the file must be valid YAML") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UserError(f"error: {where}: is a YAML {type(doc).__name__}: it must be a mapping of settings")
    return doc


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge `over` into a copy of `base`; nested mappings merge, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def setting_keys(defaults: dict[str, Any] | None = None, prefix: str = "") -> list[str]:
    """Every dotted key that can be overridden on the command line (`tags` is one key: a mapping)."""
    if defaults is None:
        return list(SETTINGS)
    keys: list[str] = []
    for key, value in defaults.items():
        if isinstance(value, dict) and f"{prefix}{key}" != "tags":
            keys.extend(setting_keys(value, f"{prefix}{key}."))
        else:
            keys.append(f"{prefix}{key}")
    return keys


def _parse_override(key: str, raw: Any) -> Any:
    """Command-line values are strings; each setting's kind says how to read one.

    signals=logs,traces is a comma list; integers are parsed (a non-number stays a string, so the
    validator can name it); tags={team: a} is a YAML flow mapping; empty profile/endpoint means unset.
    """
    if not isinstance(raw, str):
        return raw
    kind = SETTINGS[key].kind
    if kind is Kind.LIST:
        return [s.strip() for s in raw.split(",")] if raw.strip() else []
    if kind is Kind.OPT_STR:
        return raw or None
    if kind is Kind.BOOL:
        low = raw.strip().lower()
        return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(low, raw)
    if kind is Kind.OPT_INT and raw.strip().lower() in ("", "null", "none"):
        return None
    if kind in (Kind.INT, Kind.OPT_INT):
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    if kind is Kind.MAP:
        try:
            return yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else {}
        except yaml.YAMLError:
            return raw
    return raw


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    return {head: _nest(rest, value) if rest else value}


def _known_list() -> str:
    return ", ".join(SETTINGS)


def _unknown(key: str) -> str:
    return unknown_hint(key, list(SETTINGS))


def load(env: str = "local", overrides: dict[str, Any] | None = None) -> Config:
    """Load, merge and validate an env's config. Raises UserError; makes no AWS call."""
    env = validate_env_name(normalize_env(env))
    defaults_path = config_dir() / "defaults.yaml"
    defaults = _read_yaml(defaults_path)
    _check_keys(defaults, _display(defaults_path), complete=True)
    merged = defaults
    path = env_file(env)
    if path.exists():
        env_doc = _read_yaml(path)
        _check_keys(env_doc, _display(path))
        merged = deep_merge(merged, env_doc)
    overrides = dict(overrides or {})
    for key, raw in overrides.items():
        if key not in SETTINGS:
            raise UserError(f"error: unknown setting {key}={raw}: {_unknown(key)}")
        merged = deep_merge(merged, _nest(key, _parse_override(key, raw)))
    if os.environ.get("AWS_ENDPOINT_URL") and "endpoint" not in overrides:
        merged["endpoint"] = os.environ["AWS_ENDPOINT_URL"]
    return validate(env, merged)


def configured_endpoint(env: str) -> str | None:
    """The endpoint the env's files name (defaults.yaml, then envs/ENV.yaml), before the command line and
    AWS_ENDPOINT_URL: the env's own local AWS, which is never another checkout's (tasks/emulator_ctl.py)."""
    doc = _read_yaml(config_dir() / "defaults.yaml")
    path = env_file(normalize_env(env))
    if path.exists():
        doc = deep_merge(doc, _read_yaml(path))
    value = doc.get("endpoint")
    return str(value) if value else None


def known_envs() -> list[str]:
    """The envs that have a config file (config/envs/*.yaml)."""
    return sorted(p.stem for p in (config_dir() / "envs").glob("*.yaml"))


def check_env_file(config: Config) -> None:
    """An env that would reach AWS (no endpoint from its config, the command line or AWS_ENDPOINT_URL) must
    have a config file: a mistyped name (`env=prdo`) would otherwise stand a new env up in the account."""
    path = env_file(config.env)
    if config.endpoint or path.exists():
        return
    envs = known_envs()
    near = closest(config.env, envs)
    raise UserError(
        f"error: env {config.env!r} has no config file ({_display(path)})"
        + (f": did you mean {near}?" if near else "")
        + f" The envs are {', '.join(envs) or 'none'}; to add one, copy {_display(env_file('prod'))} to "
        f"{_display(path)} and adjust it"
    )


def _check_keys(doc: dict[str, Any], where: str, *, complete: bool = False) -> None:
    """Refuse unknown keys (a typo would otherwise be silently ignored) and, for defaults, missing ones."""
    for key, value in doc.items():
        if not isinstance(key, str):
            raise UserError(
                f"error: {where}: setting name {key!r} is invalid: known settings are {_known_list()}"
            )
        subkeys = [k for k in SETTINGS if k.startswith(f"{key}.")]
        if subkeys:
            if not isinstance(value, dict):
                raise UserError(
                    f"error: {where}: {key}={value!r} is invalid: must be a mapping of {', '.join(subkeys)}"
                )
            for sub in value:
                if f"{key}.{sub}" not in SETTINGS:
                    raise UserError(
                        f"error: {where}: unknown setting {key}.{sub}: {_unknown(f'{key}.{sub}')}"
                    )
        elif key not in SETTINGS:
            raise UserError(f"error: {where}: unknown setting {key}: {_unknown(key)}")
    if complete:
        present = set(setting_keys(doc))
        for key in SETTINGS:
            if key not in present:
                raise UserError(
                    f"error: {where}: setting {key} is missing: the defaults file must define every setting"
                )


__all__ = [
    "ACCOUNT_ID_LEN",
    "CATALOG_NAME",
    "CONFIG_DIR",
    "CONFIG_DIR_VAR",
    "ENV_DIR",
    "ENV_TAG",
    "MAX_BUCKET_NAME",
    "NO_ICEBERG_PARTITIONS",
    "NO_ICEBERG_REGIONS",
    "PROJECT",
    "ROOT",
    "SETTINGS",
    "AlarmSettings",
    "Config",
    "FirehoseSettings",
    "IngestSettings",
    "RetentionSettings",
    "TableSettings",
    "arn",
    "check_env_file",
    "config_dir",
    "config_files",
    "configured_endpoint",
    "deep_merge",
    "env_file",
    "has_iceberg_destination",
    "known_envs",
    "load",
    "max_env_length",
    "normalize_env",
    "partition",
    "setting_keys",
    "validate_env_name",
]
