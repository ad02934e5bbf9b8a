"""Env configuration: config/defaults.yaml, merged with config/envs/ENV.yaml, merged with key=value.

Everything is validated here, before any AWS call: a bad value raises UserError with one line that names
the value and the rule. Names of every AWS resource of an env are derived here and nowhere else, and so
is every ARN the tool builds (Config's ARN methods, in the region's partition).

The config directory is `config/` in the repo; `OTLP2PIPELINE_CONFIG_DIR` points elsewhere (tests, or a
team that keeps its env files outside the checkout).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from tasks.errors import UserError
from tasks.ingest_lambda import LambdaSettings, lambda_settings
from tasks.schemas import ALL_SIGNALS

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
ENV_DIR = CONFIG_DIR / "envs"
BUILD_DIR = ROOT / "build"
CONFIG_DIR_VAR = "OTLP2PIPELINE_CONFIG_DIR"

PROJECT = "otlp2pipeline"
ENV_TAG = f"{PROJECT}:env"  # added to every taggable resource; user tags may not use the prefix
ACCOUNT_ID_LEN = 12  # AWS account ids are always 12 digits
MAX_BUCKET_NAME = 63

# Region names we accept: the shape, then botocore's partition data (no network) for existence.
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# Where Firehose has no Apache Iceberg destination (aws-facts.md, "Regions": the Firehose developer guide,
# Apache Iceberg "Considerations and limitations"): whole partitions, and single regions of `aws`.
NO_ICEBERG_PARTITIONS: dict[str, str] = {"aws-cn": "the China regions", "aws-us-gov": "AWS GovCloud (US)"}
NO_ICEBERG_REGIONS: tuple[str, ...] = ("ap-east-2", "ap-southeast-5", "ap-southeast-6", "mx-central-1")
CATALOG_NAME = "s3tablescatalog"  # the Glue federated catalog over every table bucket of a region

# The env name ends up in the table bucket name ([0-9a-z-], botocore's s3tables model), the stack name
# ([a-zA-Z][-a-zA-Z0-9]*) and the error bucket name (S3 general-purpose rules): the intersection of all three,
# so no `_` although aws-facts.md's table bucket rule allows it.
_ENV_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3")
_NAMESPACE_RE = re.compile(r"^[a-z0-9]([a-z0-9_]*[a-z0-9])?$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
_PROFILE_RE = re.compile(r"^[A-Za-z0-9_.@+=,:/-]+$")
_PRINCIPAL_RE = re.compile(  # an IAM role/user ARN, path included (Lake Formation names principals so)
    r"^arn:(?P<partition>[a-z][a-z-]*):iam::\d{12}:(role|user)(/[\x21-\x2e\x30-\x7e]+)*/[\w+=,.@-]{1,64}$"
)
_TAG_RE = re.compile(r"^[\w .:/=+\-@]*$")
_LOG_RETENTION = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Every setting the validator reads, with its kind. defaults.yaml must define exactly these.
_INT, _STR, _OPT_STR, _LIST, _MAP = "int", "str", "optional str", "list", "map"
_BOOL, _OPT_INT = "bool", "optional int"
SETTINGS: dict[str, str] = {
    "region": _STR,
    "namespace": _STR,
    "signals": _LIST,
    "firehose.buffering_interval_seconds": _INT,
    "firehose.buffering_size_mb": _INT,
    "firehose.retry_duration_seconds": _INT,
    "firehose.error_output_prefix": _STR,
    "tables.compaction_target_mb": _INT,
    "tables.snapshot_min_to_keep": _INT,
    "tables.snapshot_max_age_hours": _INT,
    "log_retention_days": _INT,
    "error_expiry_days": _INT,
    "tags": _MAP,
    "profile": _OPT_STR,
    "endpoint": _OPT_STR,
    "ingest.port": _INT,
    "ingest.max_body_mb": _INT,
    "ingest.token": _OPT_STR,
    "ingest.sender_deadline_seconds": _INT,
    # The receiver deployed as a Lambda function behind a Function URL (tasks/ingest_lambda.py).
    "ingest.enabled": _BOOL,
    "ingest.auth": _STR,
    "ingest.runtime": _OPT_STR,
    "ingest.architecture": _STR,
    "ingest.reserved_concurrency": _OPT_INT,
    "ingest.memory_mb": _INT,
    "caller_principal": _OPT_STR,
}


@cache
def _known_regions() -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("firehose", partition))
        regions.update(session.get_available_regions("s3", partition))
    return frozenset(regions)


@cache  # a fresh botocore session re-parses endpoints.json (~0.15 s) on every call
def partition(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov, ...), from botocore's data."""
    import botocore.session

    try:
        return str(botocore.session.get_session().get_partition_for_region(region))
    except Exception:  # an unknown region is refused by load(); keep ARNs well-formed anyway
        return "aws"


def has_iceberg_destination(region: str) -> bool:
    """Whether Firehose can deliver to Apache Iceberg tables in `region` (aws-facts.md, "Regions")."""
    return partition(region) not in NO_ICEBERG_PARTITIONS and region not in NO_ICEBERG_REGIONS


def _no_iceberg_rule() -> str:
    listed = [*NO_ICEBERG_PARTITIONS.values(), *NO_ICEBERG_REGIONS]
    return (
        "Amazon Data Firehose has no Apache Iceberg destination in "
        f"{', '.join(listed[:-1])} or {listed[-1]}; choose another region"
    )


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
class IngestSettings:
    """The OTLP receiver's (ingest/): its port, body limit, bearer token and how long it resends."""

    port: int = 4318
    max_body_mb: int = 6
    token: str | None = field(default=None, repr=False)  # a secret: never in a repr or a log line
    sender_deadline_seconds: int = 30
    function: LambdaSettings = field(default_factory=LambdaSettings, repr=False)  # the deployed receiver


# A bearer token: RFC 6750's b64token characters, long enough not to be guessed.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/_-]{16,512}=*$")


def _ingest(raw: Any) -> IngestSettings:
    ing = raw if isinstance(raw, dict) else {}
    token = ing.get("token")
    if token is not None and (not isinstance(token, str) or not _TOKEN_RE.fullmatch(token)):
        raise UserError(
            "error: ingest.token is invalid: must be 16-512 characters of letters, digits and -._~+/ "
            "(a bearer token), or null for none"
        )
    return IngestSettings(
        port=_int(ing.get("port"), "ingest.port", 1, 65535),
        max_body_mb=_int(ing.get("max_body_mb"), "ingest.max_body_mb", 1, 64),
        token=token,
        sender_deadline_seconds=_int(
            ing.get("sender_deadline_seconds"), "ingest.sender_deadline_seconds", 1, 900
        ),
        function=lambda_settings(ing),
    )


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
    ingest: IngestSettings = field(default_factory=IngestSettings)
    caller_principal: str | None = None

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

    def log_stream_name(self, signal: str) -> str:
        """The CloudWatch log stream the signal's Firehose stream logs delivery errors to."""
        return f"{signal}-delivery"

    def stream_name(self, signal: str) -> str:
        return f"{self.stack_name}-{signal}"

    def error_prefix(self, signal: str) -> str:
        return f"{self.firehose.error_output_prefix}{signal}/"

    @property
    def partition(self) -> str:
        return partition(self.region)

    # -- ARNs: the only place they are built, always in the region's partition ----------------------
    def arn(self, service: str, resource: str, account_id: str = "", *, region: str | None = None) -> str:
        """`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` in this region's partition.

        `region` defaults to the env's; "" for global resources (IAM, S3 buckets), "*" in a policy that
        covers every region of the partition.
        """
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{account_id}:{resource}"

    def role_arn(self, account_id: str, role_name: str) -> str:
        """A role's ARN from its name alone: right for roles without a path (the tool's own)."""
        return self.arn("iam", f"role/{role_name}", account_id, region="")

    def table_buckets_arn(self, account_id: str) -> str:
        """Every table bucket of the region: the Lake Formation registration and the catalog's federation."""
        return self.arn("s3tables", "bucket/*", account_id)

    def table_bucket_arn(self, account_id: str) -> str:
        return self.arn("s3tables", f"bucket/{self.table_bucket_name}", account_id)

    def bucket_catalog_arn(self, account_id: str) -> str:
        """The table bucket's child catalog in Glue: the Firehose streams' CatalogARN."""
        return self.arn("glue", f"catalog/{CATALOG_NAME}/{self.table_bucket_name}", account_id)

    def error_bucket_arn(self, account_id: str) -> str:
        return self.arn("s3", self.error_bucket_name(account_id), region="")

    def stream_arn(self, account_id: str, signal: str) -> str:
        return self.arn("firehose", f"deliverystream/{self.stream_name(signal)}", account_id)

    # -- the receiver as a Lambda function (ingest.enabled) ---------------------------------------------
    def artifacts_bucket_name(self, account_id: str) -> str:
        """Account-and-region bucket of the ingest zips, shared by every env there (destroy keeps it)."""
        return f"{PROJECT}-artifacts-{account_id}-{self.region}"

    def artifacts_bucket_arn(self, account_id: str) -> str:
        return self.arn("s3", self.artifacts_bucket_name(account_id), region="")

    @property
    def access_logs_prefix(self) -> str:
        """Where the error bucket's S3 server access logs go in the artifacts bucket (ingest.enabled)."""
        return f"access-logs/{self.env}/"

    def access_logs_arn(self, account_id: str) -> str:
        """The objects the env's access logs may be written to: the artifacts bucket policy's Resource."""
        return f"{self.artifacts_bucket_arn(account_id)}/{self.access_logs_prefix}*"

    def ingest_code_key(self, sha256: str) -> str:
        """The zip's key: content-addressed, so a code change is a new key (and a new S3Key in the stack)."""
        return f"ingest/{self.env}/{sha256}.zip"

    @property
    def ingest_function_name(self) -> str:
        return f"{self.stack_name}-ingest"

    @property
    def all_tags(self) -> dict[str, str]:
        """Config tags plus the env tag, sorted by key: what every taggable resource carries."""
        tags = {**self.tags, ENV_TAG: self.env}
        return {k: tags[k] for k in sorted(tags)}

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
            "caller_principal": self.caller_principal,
            "ingest_function": vars(self.ingest.function).copy(),
        }


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
    """`otlp2pipeline-prod` and `prod` name the same env, as in the seed's scripts."""
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
    kind = SETTINGS[key]
    if kind == _LIST:
        return [s.strip() for s in raw.split(",")] if raw.strip() else []
    if kind == _OPT_STR:
        return raw or None
    if kind == _BOOL:
        low = raw.strip().lower()
        return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(low, raw)
    if kind == _OPT_INT and raw.strip().lower() in ("", "null", "none"):
        return None
    if kind in (_INT, _OPT_INT):
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    if kind == _MAP:
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
            raise UserError(f"error: unknown setting {key}={raw}: known settings are {_known_list()}")
        merged = deep_merge(merged, _nest(key, _parse_override(key, raw)))
    if os.environ.get("AWS_ENDPOINT_URL") and "endpoint" not in overrides:
        merged["endpoint"] = os.environ["AWS_ENDPOINT_URL"]
    return _validate(env, merged)


def from_doit_vars(env_default: str = "local") -> Config:
    """The env's config with every `key=value` doit variable applied (for task creators and actions).

    Reads `env` and each key of setting_keys() through doit.get_var; raises UserError like load().
    """
    from doit import get_var

    env = get_var("env", None)
    if env is None:  # not given; an explicit `env=` (empty) is refused by load()
        env = env_default
    overrides: dict[str, Any] = {}
    for key in setting_keys():
        value = get_var(key, None)
        if value is not None:
            overrides[key] = value
    return load(str(env), overrides)


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
                        f"error: {where}: unknown setting {key}.{sub}: known settings are {_known_list()}"
                    )
        elif key not in SETTINGS:
            raise UserError(f"error: {where}: unknown setting {key}: known settings are {_known_list()}")
    if complete:
        present = set(setting_keys(doc))
        for key in SETTINGS:
            if key not in present:
                raise UserError(
                    f"error: {where}: setting {key} is missing: the defaults file must define every setting"
                )


# -- validation -----------------------------------------------------------------------------------


def validate_env_name(env: str) -> str:
    """Env names become part of the table bucket and error bucket names, so they follow those rules."""
    rule = "env names use lowercase letters, digits and -, and start and end with a letter or digit"
    if not env:
        raise UserError(f"error: env name '' is empty: {rule}")
    if not _ENV_RE.fullmatch(env):
        raise UserError(f"error: env name {env!r} is invalid: {rule}")
    bucket = f"{PROJECT}-{env}"
    for suffix in _BAD_SUFFIXES:
        if bucket.endswith(suffix):
            raise UserError(f"error: env name {env!r} is invalid: bucket names must not end with {suffix!r}")
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
        raise UserError(
            f"error: region={region!r} is unknown: must be an AWS region where Firehose runs, e.g. us-east-1"
        )
    if not has_iceberg_destination(region):
        raise UserError(f"error: region={region!r} is not supported: {_no_iceberg_rule()}")
    longest = max_env_length(region)
    if len(env) > longest:
        example = env[:longest].rstrip("-")
        raise UserError(
            f"error: env name {env!r} ({len(env)} characters) is too long for {region}: the error bucket "
            f"'{PROJECT}-{env}-errors-<account>-{region}' would exceed 63 characters; "
            f"the longest env that fits is {longest} characters, e.g. {example!r}"
        )

    namespace = _str(c.get("namespace"), "namespace")
    assert namespace is not None
    if not _NAMESPACE_RE.fullmatch(namespace) or len(namespace) > 255 or namespace.startswith("aws"):
        raise UserError(
            f"error: namespace={namespace!r} is invalid: lowercase letters, digits and _, "
            "starting and ending with a letter or digit, not starting with 'aws', at most 255 characters"
        )

    signals_raw = c.get("signals")
    choices = ", ".join(ALL_SIGNALS)
    if not isinstance(signals_raw, list) or not signals_raw:
        raise UserError(f"error: signals={signals_raw!r} is invalid: must be a non-empty list of {choices}")
    for sig in signals_raw:
        if sig not in ALL_SIGNALS:
            raise UserError(f"error: signal {sig!r} is unknown: must be one of {choices}")
    if len(set(signals_raw)) != len(signals_raw):
        raise UserError(f"error: signals={signals_raw!r} is invalid: a signal is listed twice")
    signals = tuple(s for s in ALL_SIGNALS if s in signals_raw)

    fh = c.get("firehose") or {}
    prefix = fh.get("error_output_prefix")
    if (
        not isinstance(prefix, str)
        or not _PREFIX_RE.fullmatch(prefix)
        or len(prefix) > 900
        or prefix.startswith("/")
        or (prefix and not prefix.endswith("/"))
    ):
        raise UserError(
            f"error: firehose.error_output_prefix={prefix!r} is invalid: must be an S3 key prefix of "
            "letters, digits and !_.*'()/- that ends with / and does not start with / (or empty)"
        )
    firehose = FirehoseSettings(
        buffering_interval_seconds=_int(
            fh.get("buffering_interval_seconds"), "firehose.buffering_interval_seconds", 0, 900
        ),
        buffering_size_mb=_int(fh.get("buffering_size_mb"), "firehose.buffering_size_mb", 1, 128),
        retry_duration_seconds=_int(
            fh.get("retry_duration_seconds"), "firehose.retry_duration_seconds", 0, 7200
        ),
        error_output_prefix=prefix,
    )
    tb = c.get("tables") or {}
    tables = TableSettings(
        compaction_target_mb=_int(tb.get("compaction_target_mb"), "tables.compaction_target_mb", 64, 512),
        snapshot_min_to_keep=_int(
            tb.get("snapshot_min_to_keep"), "tables.snapshot_min_to_keep", 1, 2**31 - 1
        ),
        snapshot_max_age_hours=_int(
            tb.get("snapshot_max_age_hours"), "tables.snapshot_max_age_hours", 1, 2**31 - 1
        ),
    )
    retention = c.get("log_retention_days")
    if isinstance(retention, bool) or retention not in _LOG_RETENTION:
        raise UserError(
            f"error: log_retention_days={retention!r} is invalid: must be one of CloudWatch's values "
            f"{', '.join(map(str, _LOG_RETENTION))}"
        )
    expiry = _int(c.get("error_expiry_days"), "error_expiry_days", 1, 3650)

    tags = c.get("tags")
    tags = {} if tags is None else tags
    if not isinstance(tags, dict):
        raise UserError(f"error: tags={tags!r} is invalid: must be a mapping of key: value")
    if len(tags) > 49:  # 50 per resource, one is the env tag
        raise UserError(f"error: tags has {len(tags)} entries: at most 49 (the env tag makes 50)")
    for k, v in tags.items():
        if (
            not isinstance(k, str)
            or not 1 <= len(k) <= 128
            or not _TAG_RE.fullmatch(k)
            or k.startswith("aws:")
        ):
            raise UserError(
                f"error: tag key {k!r} is invalid: 1-128 letters, digits, spaces and _.:/=+-@, "
                "not starting with 'aws:'"
            )
        if k.startswith(f"{PROJECT}:"):
            raise UserError(
                f"error: tag key {k!r} is reserved: keys starting with '{PROJECT}:' are set by the tool"
            )
        if (
            isinstance(v, bool)
            or not isinstance(v, str | int)
            or len(str(v)) > 256
            or not _TAG_RE.fullmatch(str(v))
        ):
            raise UserError(
                f"error: tag {k}={v!r} is invalid: values are at most 256 letters, digits, spaces "
                "and _.:/=+-@"
            )

    profile = _str(c.get("profile"), "profile", optional=True)
    if profile is not None and not _PROFILE_RE.fullmatch(profile):
        raise UserError(f"error: profile={profile!r} is invalid: must be an AWS profile name without spaces")

    endpoint = _str(c.get("endpoint"), "endpoint", optional=True)
    if endpoint is not None:
        parsed = urlparse(endpoint)
        try:
            port_ok = parsed.port is None or 0 < parsed.port < 65536
        except ValueError:
            port_ok = False
        if parsed.scheme not in ("http", "https") or not parsed.hostname or not port_ok:
            raise UserError(
                f"error: endpoint={endpoint!r} is invalid: must be an http(s) URL such as http://127.0.0.1:4566"
            )

    caller = _str(c.get("caller_principal"), "caller_principal", optional=True)
    caller_match = _PRINCIPAL_RE.fullmatch(caller) if caller is not None else None
    if caller is not None and (not caller_match or caller_match["partition"] != partition(region)):
        raise UserError(
            f"error: caller_principal={caller!r} is invalid: must be the full ARN of an IAM role or user of "
            f"{region}'s partition, path included, such as "
            f"arn:{partition(region)}:iam::123456789012:role/aws-reserved/sso.amazonaws.com/NAME"
        )

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
        profile=profile,
        endpoint=endpoint,
        ingest=_ingest(c.get("ingest")),
        caller_principal=caller,
    )
