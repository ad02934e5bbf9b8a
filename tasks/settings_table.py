"""Every setting an env has, in one table: its key, kind, default, rule and what it does.

The validation (tasks/validation.py) reads each value through its row and names the row's rule when it
refuses one; config/defaults.yaml and the README's settings table are this table written out
(`python -m tasks.settings_doc`, and tests keep both equal to it). A new setting is a row here, a field in
its section's dataclass (tasks/settings.py) and its check in tasks/validation.py (an integer in range
needs none: `integer` reads the row's bounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lake.signals import ALL_SIGNALS, DEFAULT_SIGNALS
from tasks.errors import UserError
from tasks.ingest_lambda import ARCHITECTURES, AUTHS
from tasks.settings import TAG_PREFIX

INT_MAX = 2**31 - 1
# CloudWatch Logs' retention values (PutRetentionPolicy's retentionInDays).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545),
    *(731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
)
RETENTION_MAX_DAYS = 36500  # a hundred years: more is keeping everything, which null says
MAX_ROWS_LIMIT = 1_000_000  # ingest.max_rows's ceiling: a request's rows are built in memory at once
ATHENA_MIN_CUTOFF_MB = 10  # BytesScannedCutoffPerQuery >= 10,000,000 (the athena model's minimum)
ATHENA_MAX_CUTOFF_MB = 10**9  # a petabyte: anything above is no limit at all (use null)


class Kind(StrEnum):
    """How a command-line value is read (tasks/config.py) before the validation checks it."""

    INT = "int"
    OPT_INT = "optional int"
    STR = "str"
    OPT_STR = "optional str"
    BOOL = "bool"
    LIST = "list"
    MAP = "map"


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: `firehose.buffering_interval_seconds` is `buffering_interval_seconds` under `firehose`
    kind: Kind
    default: Any  # the value config/defaults.yaml holds
    rule: str  # what a value must be: the validation's errors end with it
    doc: str = ""  # what it does
    lo: int | None = None  # an integer's bounds (Kind.INT, Kind.OPT_INT)
    hi: int | None = None
    heading: str = ""  # a comment that opens a group of settings in defaults.yaml


def _bounded(
    key: str, kind: Kind, default: int | None, lo: int, hi: int | None, doc: str, heading: str = ""
) -> Setting:
    """An integer setting: its rule is its bounds."""
    rule = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    if kind is Kind.OPT_INT:
        rule += ", or null"
    return Setting(key, kind, default, rule, doc, lo, hi, heading)


TABLE: tuple[Setting, ...] = (
    Setting(
        "region",
        Kind.STR,
        "us-east-1",
        "an AWS region where Firehose has Apache Iceberg destinations (not the China regions, AWS GovCloud "
        "(US), ap-east-2, ap-southeast-5, ap-southeast-6 or mx-central-1)",
        "where the env lives",
    ),
    Setting(
        "namespace",
        Kind.STR,
        "default",
        "lowercase letters, digits and _, starting and ending with a letter or digit, not starting with "
        "'aws', at most 255 characters",
        "the Iceberg namespace of the tables; changing it on a deployed env moves ingest to new, empty "
        "tables there and keeps the old namespace's tables with their rows, shown as kept; changing it back "
        "writes the kept tables again (docs/changing-an-env.md)",
    ),
    Setting(
        "signals",
        Kind.LIST,
        list(DEFAULT_SIGNALS),
        "a non-empty list of signal names (lake/signals.py), each once",
        "the tables and streams the env has; a name not in lake/signals.py is refused with the list",
    ),
    _bounded("firehose.buffering_interval_seconds", Kind.INT, 60, 0, 900, "how long Firehose buffers"),
    _bounded("firehose.buffering_size_mb", Kind.INT, 5, 1, 128, "how much Firehose buffers"),
    _bounded(
        "firehose.retry_duration_seconds", Kind.INT, 300, 0, 7200, "how long Firehose retries a delivery"
    ),
    Setting(
        "firehose.error_output_prefix",
        Kind.STR,
        "errors/",
        "an S3 key prefix of letters, digits and !_.*'()/- that ends with / and does not start with / "
        "(or empty)",
        "where failed records go in the error bucket; the signal name and / are appended per stream",
    ),
    _bounded("tables.compaction_target_mb", Kind.INT, 512, 64, 512, "the tables' compaction file size"),
    _bounded("tables.snapshot_min_to_keep", Kind.INT, 1, 1, INT_MAX, "snapshots every table keeps"),
    _bounded(
        "tables.snapshot_max_age_hours", Kind.INT, 120, 1, INT_MAX, "older snapshots expire (beyond the kept)"
    ),
    Setting(
        "log_retention_days",
        Kind.INT,
        14,
        f"one of CloudWatch Logs' retention values {', '.join(map(str, LOG_RETENTION_DAYS))}",
        "how long the delivery error logs are kept",
    ),
    _bounded("error_expiry_days", Kind.INT, 30, 1, 3650, "error objects expire after this many days"),
    Setting(
        "tags",
        Kind.MAP,
        {},
        "a mapping of at most 49 tags of 1-128 (keys) and 0-256 (values) letters, digits, spaces and "
        f"_./=+-@ (no ':'), keys not starting with '{TAG_PREFIX}'",
        "added to every taggable resource, with the env tag",
    ),
    Setting(
        "profile",
        Kind.OPT_STR,
        None,
        "an AWS profile name without spaces, or null",
        "null uses the default credential chain",
    ),
    Setting(
        "endpoint",
        Kind.OPT_STR,
        None,
        "an http(s) URL such as http://127.0.0.1:4566, or null",
        "null means real AWS (env local sets the local AWS's); AWS_ENDPOINT_URL is honoured too",
    ),
    _bounded(
        "ingest.port",
        Kind.INT,
        4318,
        1,
        65535,
        "the local receiver's port",
        heading="The OTLP/HTTP receiver (`doit ingest`, `python -m ingest`).",
    ),
    _bounded("ingest.max_body_mb", Kind.INT, 6, 1, 64, "request size limit after decompression"),
    Setting(
        "ingest.token",
        Kind.OPT_STR,
        None,
        "16-512 characters of letters, digits and -._~+/ (a bearer token), or null for none",
        "the bearer token the exporters must send; null accepts any request",
    ),
    _bounded(
        "ingest.sender_deadline_seconds",
        Kind.INT,
        30,
        1,
        900,
        "a request's one deadline: rows not handed to Firehose by then get 503 (the Lambda: at most its "
        "remaining time less 2 s)",
    ),
    _bounded(
        "ingest.max_rows",
        Kind.INT,
        50_000,
        1,
        MAX_ROWS_LIMIT,
        "spans, log records and data points one request may hold; above it 413",
    ),
    Setting(
        "ingest.enabled",
        Kind.BOOL,
        True,
        "true or false (false where Lambda has no function URLs)",
        "the stack holds the ingest function, its URL and (token auth) its secret; false: no function, "
        "URL, secret, artifacts bucket or zip",
        heading="The receiver deployed in the stack as a Lambda function behind a Function URL.",
    ),
    Setting(
        "ingest.auth",
        Kind.STR,
        "token",
        f"one of {', '.join(AUTHS)}",
        "token: URL AuthType NONE, the function checks a bearer token kept in Secrets Manager; iam: "
        "AuthType AWS_IAM, SigV4-signed requests, no secret",
    ),
    Setting(
        "ingest.runtime",
        Kind.OPT_STR,
        None,
        "a released python3.* Lambda runtime not blocked for new functions today (cfn-lint's runtime "
        "lifecycle data), or null",
        "null: the newest such runtime; env local builds for this machine's CPython instead",
    ),
    Setting(
        "ingest.architecture",
        Kind.STR,
        "arm64",
        f"one of {', '.join(ARCHITECTURES)}",
        "env local builds for this machine's architecture instead",
    ),
    _bounded(
        "ingest.reserved_concurrency",
        Kind.OPT_INT,
        None,
        0,
        None,
        "0 stops the function; null: the account's unreserved pool",
    ),
    Setting(
        "ingest.memory_mb",
        Kind.INT,
        512,
        "an integer in the lambda model's MemorySize range (128 to 32768 in the pinned botocore)",
        "the function's memory",
    ),
    Setting(
        "caller_principal",
        Kind.OPT_STR,
        None,
        "the full ARN of an IAM role or user of the region's partition, path included, or null",
        "who runs the tool (granted in Lake Formation); null reads it (iam:GetRole)",
    ),
    Setting(
        "readers",
        Kind.LIST,
        [],
        "a list of full ARNs of IAM roles or users of the env's account and the region's partition, path "
        "included, each once, at most 4096 characters in all",
        "who may query the tables: deploy grants each Lake Formation DESCRIBE on the namespace and SELECT, "
        "DESCRIBE on every table, and removing one revokes them; attach the stack's ReadersPolicyArn to each "
        "(docs/readers.md)",
    ),
    Setting(
        "alarms.email",
        Kind.OPT_STR,
        None,
        "one email address, e.g. ops@example.com, or null",
        "the stack adds an SNS topic (its own KMS key) with an email subscription",
        heading="CloudWatch alarms in the stack, each named for what broke (docs/alarms.md). Set one of "
        "email and topic_arn, or neither: then the alarms exist, `doit status` shows them, and they "
        "notify nobody.",
    ),
    Setting(
        "alarms.topic_arn",
        Kind.OPT_STR,
        None,
        "an SNS topic ARN of the env's region and partition, arn:PARTITION:sns:REGION:ACCOUNT:NAME, or "
        "null; not with alarms.email",
        "an existing topic the alarms notify",
    ),
    _bounded(
        "alarms.freshness_seconds",
        Kind.OPT_INT,
        None,
        60,
        86400,
        "the data freshness alarm's threshold; null: firehose.buffering_interval_seconds + 300",
    ),
    _bounded(
        "athena.results_expiry_days",
        Kind.INT,
        7,
        1,
        3650,
        "query results (CSV and metadata in the results bucket) expire after this many days",
        heading="Athena: the stack's workgroup (named as the stack) and its results bucket; `doit query "
        "engine=athena` and Grafana's Athena data source run there (docs/query.md).",
    ),
    _bounded(
        "athena.bytes_scanned_cutoff_mb",
        Kind.OPT_INT,
        100_000,
        ATHENA_MIN_CUTOFF_MB,
        ATHENA_MAX_CUTOFF_MB,
        "the workgroup's per-query scan limit in decimal MB (100000: 100 GB, $0.50); a query reading more is "
        "cancelled, and costs what it read; null: no limit",
    ),
    _bounded(
        "retention_days",
        Kind.OPT_INT,
        None,
        1,
        RETENTION_MAX_DAYS,
        "whole UTC days of rows every table keeps; null keeps every row",
        heading="Retention (docs/retention.md): each table keeps the rows of the last N whole UTC days; "
        "every day before goes, whole, by a daily run of the stack's retention function (and `doit "
        "retention`). retention.SIGNAL overrides retention_days for one table.",
    ),
    *(
        _bounded(
            f"retention.{signal}",
            Kind.OPT_INT,
            None,
            1,
            RETENTION_MAX_DAYS,
            "this table's own window; null: retention_days",
        )
        for signal in ALL_SIGNALS
    ),
)

SETTINGS: dict[str, Setting] = {s.key: s for s in TABLE}


def refuse(key: str, value: Any, rule: str | None = None) -> UserError:
    """The one-line error for a value its rule refuses: `error: KEY=VALUE is invalid: must be RULE`."""
    return UserError(f"error: {key}={value!r} is invalid: must be {rule or SETTINGS[key].rule}")


def integer(key: str, value: Any) -> int | None:
    """An integer setting checked against its row's bounds (None for an optional one left null)."""
    row = SETTINGS[key]
    if value is None and row.kind is Kind.OPT_INT:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(key, value)
    assert row.lo is not None
    if value < row.lo or (row.hi is not None and value > row.hi):
        raise UserError(f"error: {key}={value} is out of range: must be {row.rule}")
    return value


def required_int(key: str, value: Any) -> int:
    checked = integer(key, value)
    if checked is None:
        raise refuse(key, value)
    return checked


def string(key: str, value: Any) -> str | None:
    """A string setting: non-empty, or None where its kind is optional."""
    if value is None and SETTINGS[key].kind is Kind.OPT_STR:
        return None
    if not isinstance(value, str) or not value:
        raise refuse(key, value, "a non-empty string")
    return value


def required_str(key: str, value: Any) -> str:
    checked = string(key, value)
    if checked is None:
        raise refuse(key, value, "a non-empty string")
    return checked
