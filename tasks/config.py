"""Env configuration: config/defaults.yaml, merged with config/envs/ENV.yaml, merged with key=value.

Everything is validated here, before any AWS call: a bad value raises UserError with one line that names
the value and the rule. Names of every AWS resource of an env are derived here and nowhere else.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from tasks.errors import UserError
from tasks.schemas import ALL_SIGNALS

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
ENV_DIR = CONFIG_DIR / "envs"
BUILD_DIR = ROOT / "build"

PROJECT = "otlp2pipeline"
ACCOUNT_ID_LEN = 12  # AWS account ids are always 12 digits
MAX_BUCKET_NAME = 63

# Regions whose names we accept. A typo here would otherwise surface as an endpoint error after
# the first call; botocore's partition data is the authority for what exists.
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*[a-z0-9]$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3")
_NAMESPACE_RE = re.compile(r"^[0-9a-z_]+$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
_LOG_RETENTION = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)


def _known_regions() -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("firehose", partition))
        regions.update(session.get_available_regions("s3", partition))
    return frozenset(regions)


@dataclass(frozen=True)
class FirehoseSettings:
    buffering_interval_seconds: int
    buffering_size_mb: int
    retry_duration_seconds: int
    error_output_prefix: str


@dataclass(frozen=True)
class TableSettings:
    compaction_target_mb: int
    snapshot_min_to_keep: int
    snapshot_max_age_hours: int


@dataclass(frozen=True)
class Config:
    env: str
    region: str
    namespace: str
    signals: tuple[str, ...]
    firehose: FirehoseSettings
    tables: TableSettings
    log_retention_days: int
    error_expiry_days: int
    tags: dict[str, str] = field(hash=False)
    profile: str | None
    endpoint: str | None

    # -- names: the only place they are derived --------------------------------------------------
    @property
    def stack_name(self) -> str:
        return f"{PROJECT}-{self.env}"

    @property
    def table_bucket_name(self) -> str:
        return f"{PROJECT}-{self.env}"

    def error_bucket_name(self, account_id: str) -> str:
        return f"{self.stack_name}-errors-{account_id}-{self.region}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/kinesisfirehose/{self.stack_name}"

    def stream_name(self, signal: str) -> str:
        return f"{self.stack_name}-{signal}"

    def error_prefix(self, signal: str) -> str:
        return f"{self.firehose.error_output_prefix}{signal}/"

    @property
    def is_local(self) -> bool:
        """True when the endpoint is on this machine: the embedded emulator."""
        if not self.endpoint:
            return False
        host = urlparse(self.endpoint).hostname or ""
        return host in ("127.0.0.1", "localhost", "::1")

    @property
    def build_dir(self) -> Path:
        return BUILD_DIR / self.env

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "region": self.region,
            "namespace": self.namespace,
            "signals": list(self.signals),
            "firehose": vars(self.firehose).copy(),
            "tables": vars(self.tables).copy(),
            "log_retention_days": self.log_retention_days,
            "error_expiry_days": self.error_expiry_days,
            "tags": dict(self.tags),
            "profile": self.profile,
            "endpoint": self.endpoint,
        }


# -- loading --------------------------------------------------------------------------------------


def normalize_env(env: str) -> str:
    """`otlp2pipeline-prod` and `prod` name the same env, as in the seed's scripts."""
    return env.removeprefix(f"{PROJECT}-")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise UserError(f"error: {path.relative_to(ROOT)}{where}: {problem}: the file must be valid YAML") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise UserError(f"error: {path.relative_to(ROOT)}: must be a YAML mapping of settings, got {type(doc).__name__}")
    return doc


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def setting_keys(defaults: dict[str, Any] | None = None, prefix: str = "") -> list[str]:
    """Every dotted key that can be overridden on the command line."""
    defaults = _read_yaml(CONFIG_DIR / "defaults.yaml") if defaults is None else defaults
    keys: list[str] = []
    for key, value in defaults.items():
        if isinstance(value, dict) and key != "tags":
            keys.extend(setting_keys(value, f"{prefix}{key}."))
        else:
            keys.append(f"{prefix}{key}")
    return keys


def _parse_override(key: str, raw: str) -> Any:
    """Command-line values are YAML scalars or flow lists: count=3, signals=logs,traces, tags={a: b}."""
    if key == "signals":
        return [s.strip() for s in raw.split(",")] if raw.strip() else []
    try:
        return yaml.safe_load(raw) if raw != "" else ""
    except yaml.YAMLError:
        return raw


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    return {head: _nest(rest, value) if rest else value}


def load(env: str = "local", overrides: dict[str, str] | None = None) -> Config:
    """Load, merge and validate an env's config. Raises UserError; makes no AWS call."""
    env = validate_env_name(normalize_env(env))
    defaults = _read_yaml(CONFIG_DIR / "defaults.yaml")
    merged = defaults
    env_file = ENV_DIR / f"{env}.yaml"
    if env_file.exists():
        env_doc = _read_yaml(env_file)
        _check_unknown(env_doc, defaults, str(env_file.relative_to(ROOT)))
        merged = deep_merge(merged, env_doc)
    for key, raw in (overrides or {}).items():
        if key not in setting_keys(defaults):
            raise UserError(
                f"error: unknown setting {key}={raw}: known settings are {', '.join(setting_keys(defaults))}"
            )
        merged = deep_merge(merged, _nest(key, _parse_override(key, raw)))
    if os.environ.get("AWS_ENDPOINT_URL") and not (overrides or {}).get("endpoint"):
        merged["endpoint"] = os.environ["AWS_ENDPOINT_URL"]
    return _validate(env, merged)


def _check_unknown(doc: dict[str, Any], schema: dict[str, Any], where: str, prefix: str = "") -> None:
    for key, value in doc.items():
        if key not in schema:
            raise UserError(
                f"error: {where}: unknown setting {prefix}{key!s}: known settings are {', '.join(setting_keys())}"
            )
        if key != "tags" and isinstance(schema[key], dict):
            if not isinstance(value, dict):
                raise UserError(f"error: {where}: {prefix}{key} must be a mapping, got {value!r}")
            _check_unknown(value, schema[key], where, f"{prefix}{key}.")


# -- validation -----------------------------------------------------------------------------------


def validate_env_name(env: str) -> str:
    """Env names become part of S3 table bucket names, so they follow those rules."""
    rule = "env names use lowercase letters, digits, - and _, start and end with a letter or digit"
    if not env:
        raise UserError(f"error: env name '' is empty: {rule}")
    if not _BUCKET_RE.fullmatch(env) and not re.fullmatch(r"[a-z0-9]", env):
        raise UserError(f"error: env name {env!r} is invalid: {rule}")
    bucket = f"{PROJECT}-{env}"
    for suffix in _BAD_SUFFIXES:
        if bucket.endswith(suffix):
            raise UserError(f"error: env name {env!r} is invalid: table bucket names must not end with {suffix!r}")
    for prefix in _BAD_PREFIXES:
        if env.startswith(prefix):
            raise UserError(f"error: env name {env!r} is invalid: names must not start with {prefix!r}")
    if len(bucket) > MAX_BUCKET_NAME:
        raise UserError(f"error: env name {env!r} is too long: table bucket {bucket!r} exceeds 63 characters")
    return env


def max_env_length(region: str) -> int:
    """Longest env whose error bucket `otlp2pipeline-ENV-errors-ACCOUNT-REGION` fits in 63 characters."""
    fixed = len(f"{PROJECT}-") + len("-errors-") + ACCOUNT_ID_LEN + len("-") + len(region)
    return MAX_BUCKET_NAME - fixed


def _int(value: Any, key: str, lo: int, hi: int | None = None) -> int:
    rule = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"error: {key}={value!r} is invalid: must be {rule}")
    if value < lo or (hi is not None and value > hi):
        raise UserError(f"error: {key}={value} is out of range: must be {rule}")
    return value


def _str(value: Any, key: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise UserError(f"error: {key}={value!r} is invalid: must be a non-empty string")
    return value


def _validate(env: str, c: dict[str, Any]) -> Config:
    region = _str(c.get("region"), "region")
    assert region is not None
    if not _REGION_RE.fullmatch(region) or region not in _known_regions():
        raise UserError(f"error: region={region!r} is unknown: must be an AWS region where Firehose runs, e.g. us-east-1")
    longest = max_env_length(region)
    if len(env) > longest:
        raise UserError(
            f"error: env name {env!r} is too long for {region}: the error bucket "
            f"'{PROJECT}-{env}-errors-<account>-{region}' would exceed 63 characters; "
            f"the longest env that fits is {longest} characters"
        )

    namespace = _str(c.get("namespace"), "namespace")
    assert namespace is not None
    if not _NAMESPACE_RE.fullmatch(namespace) or len(namespace) > 255:
        raise UserError(f"error: namespace={namespace!r} is invalid: must match ^[0-9a-z_]+$")

    signals_raw = c.get("signals")
    if not isinstance(signals_raw, list) or not signals_raw:
        raise UserError(f"error: signals={signals_raw!r} is invalid: must be a non-empty list of {', '.join(ALL_SIGNALS)}")
    for sig in signals_raw:
        if sig not in ALL_SIGNALS:
            raise UserError(f"error: signal {sig!r} is unknown: must be one of {', '.join(ALL_SIGNALS)}")
    if len(set(signals_raw)) != len(signals_raw):
        raise UserError(f"error: signals={signals_raw!r} is invalid: a signal is listed twice")
    signals = tuple(s for s in ALL_SIGNALS if s in signals_raw)

    fh = c.get("firehose") or {}
    prefix = fh.get("error_output_prefix")
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix) or len(prefix) > 900:
        raise UserError(f"error: firehose.error_output_prefix={prefix!r} is invalid: must be an S3 key prefix")
    firehose = FirehoseSettings(
        buffering_interval_seconds=_int(fh.get("buffering_interval_seconds"), "firehose.buffering_interval_seconds", 0, 900),
        buffering_size_mb=_int(fh.get("buffering_size_mb"), "firehose.buffering_size_mb", 1, 128),
        retry_duration_seconds=_int(fh.get("retry_duration_seconds"), "firehose.retry_duration_seconds", 0, 7200),
        error_output_prefix=prefix,
    )
    tb = c.get("tables") or {}
    tables = TableSettings(
        compaction_target_mb=_int(tb.get("compaction_target_mb"), "tables.compaction_target_mb", 64, 512),
        snapshot_min_to_keep=_int(tb.get("snapshot_min_to_keep"), "tables.snapshot_min_to_keep", 1),
        snapshot_max_age_hours=_int(tb.get("snapshot_max_age_hours"), "tables.snapshot_max_age_hours", 1),
    )
    retention = c.get("log_retention_days")
    if retention not in _LOG_RETENTION or isinstance(retention, bool):
        raise UserError(
            f"error: log_retention_days={retention!r} is invalid: must be one of CloudWatch's values "
            f"{', '.join(map(str, _LOG_RETENTION))}"
        )
    expiry = _int(c.get("error_expiry_days"), "error_expiry_days", 1, 3650)

    tags = c.get("tags") or {}
    if not isinstance(tags, dict):
        raise UserError(f"error: tags={tags!r} is invalid: must be a mapping of key: value")
    for k, v in tags.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 128 or k.startswith("aws:"):
            raise UserError(f"error: tag key {k!r} is invalid: 1-128 characters, not starting with 'aws:'")
        if not isinstance(v, str | int) or len(str(v)) > 256:
            raise UserError(f"error: tag {k}={v!r} is invalid: values are strings of at most 256 characters")

    endpoint = _str(c.get("endpoint"), "endpoint", optional=True)
    if endpoint is not None:
        parsed = urlparse(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise UserError(f"error: endpoint={endpoint!r} is invalid: must be an http(s) URL such as http://127.0.0.1:4566")

    return Config(
        env=env,
        region=region,
        namespace=namespace,
        signals=signals,
        firehose=firehose,
        tables=tables,
        log_retention_days=retention,
        error_expiry_days=expiry,
        tags={str(k): str(v) for k, v in tags.items()},
        profile=_str(c.get("profile"), "profile", optional=True),
        endpoint=endpoint,
    )
