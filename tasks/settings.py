"""The settings an env has, checked: a dataclass per section, and Config, which derives every name and ARN.

The table of every key is tasks/settings_table.py; tasks/validation.py builds these from a merged
document; tasks/config.py loads it (the module to import: everything here is importable from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lake.athena_cost import MB
from lake.regions import arn, partition
from tasks import paths
from tasks.ingest_lambda import LambdaSettings

PROJECT = "otlp2pipeline"
# Added to every taggable resource; user tags may not use the prefix. No `:` in it: CloudFormation's S3 Tables
# schema lists no `:` for tag keys (S3's other tagging allows it), so a key valid under every rule is used.
ENV_TAG = f"{PROJECT}-env"
TAG_PREFIX = f"{PROJECT}-"
ACCOUNT_ID_LEN = 12  # AWS account ids are always 12 digits
MAX_BUCKET_NAME = 63

CATALOG_NAME = "s3tablescatalog"  # the Glue federated catalog over every table bucket of a region


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
    """The OTLP receiver's (ingest/): its port, body and row limits, bearer token and its deadline."""

    port: int = 4318
    max_body_mb: int = 6
    token: str | None = field(default=None, repr=False)  # a secret: never in a repr or a log line
    sender_deadline_seconds: int = 30
    max_rows: int = 50_000  # spans, log records and data points one request may hold (above: 413)
    function: LambdaSettings = field(default_factory=LambdaSettings, repr=False)  # the deployed receiver

    @property
    def function_timeout(self) -> int:
        """The ingest function's Timeout (s): the receiver's resend deadline, plus time to answer 503."""
        return min(900, self.sender_deadline_seconds + 10)


@dataclass(frozen=True)
class AlarmSettings:
    """Where the stack's alarms notify (one of email and topic_arn, or neither: nobody) and the data
    freshness threshold, resolved (a null setting becomes the buffering interval plus five minutes)."""

    email: str | None = None
    topic_arn: str | None = None
    freshness_seconds: int = 360


@dataclass(frozen=True)
class AthenaSettings:
    """The stack's Athena workgroup and results bucket (templates/athena.yaml.j2): how long query results
    stay, and the workgroup's per-query scan limit in decimal megabytes (None: no limit)."""

    results_expiry_days: int = 7
    bytes_scanned_cutoff_mb: int | None = 100_000

    @property
    def cutoff_bytes(self) -> int | None:
        """BytesScannedCutoffPerQuery, or None for no limit."""
        mb = self.bytes_scanned_cutoff_mb
        return None if mb is None else mb * MB


@dataclass(frozen=True)
class RetentionSettings:
    """Days of rows each table keeps: `retention_days` for every table, `retention.SIGNAL` for one (null:
    the env's `retention_days`). A table without a window keeps every row."""

    days: int | None = None
    by_signal: dict[str, int | None] = field(default_factory=dict, hash=False)

    def window(self, signal: str) -> int | None:
        own = self.by_signal.get(signal)
        return own if own is not None else self.days


def child_catalog_id(account_id: str, bucket: str) -> str:
    """A table bucket's child catalog as Glue and Lake Formation name it: ACCOUNT:s3tablescatalog/BUCKET."""
    return f"{account_id}:{CATALOG_NAME}/{bucket}"


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
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    athena: AthenaSettings = field(default_factory=AthenaSettings)
    readers: tuple[str, ...] = ()
    retention: RetentionSettings = field(default_factory=RetentionSettings)

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
        return arn(self.region, service, resource, account_id, arn_region=region)

    def role_arn(self, account_id: str, role_name: str) -> str:
        """A role's ARN from its name alone: right for roles without a path (the tool's own)."""
        return self.arn("iam", f"role/{role_name}", account_id, region="")

    def table_buckets_arn(self, account_id: str) -> str:
        """Every table bucket of the region: the Lake Formation registration and the catalog's federation."""
        return self.arn("s3tables", "bucket/*", account_id)

    def table_bucket_arn(self, account_id: str) -> str:
        return self.arn("s3tables", f"bucket/{self.table_bucket_name}", account_id)

    def bucket_catalog_id(self, account_id: str) -> str:
        """The table bucket's child catalog as Glue and Lake Formation name it (ACCOUNT:s3tablescatalog/B)."""
        return child_catalog_id(account_id, self.table_bucket_name)

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

    # -- alarms (tasks/alarms.py): named for what broke ------------------------------------------------
    @property
    def alarm_prefix(self) -> str:
        """Every alarm of the env starts with it: status reads them all with one DescribeAlarms."""
        return f"{self.stack_name}-"

    def alarm_name(self, scope: str, cause: str) -> str:
        """`otlp2pipeline-ENV-traces-delivery-failing`: the env, what it watches, and what broke."""
        return f"{self.alarm_prefix}{scope}-{cause}"

    # -- retention (retention/, docs/retention.md) ------------------------------------------------------
    @property
    def retention_windows(self) -> dict[str, int]:
        """signal -> days kept, for the env's signals that have a window (the others keep every row)."""
        out = {s: self.retention.window(s) for s in self.signals}
        return {s: days for s, days in out.items() if days is not None}

    @property
    def retention_enabled(self) -> bool:
        """Some table has a window: the stack holds the retention function, its schedule and alarms."""
        return bool(self.retention_windows)

    @property
    def retention_function_name(self) -> str:
        return f"{self.stack_name}-retention"

    @property
    def retention_schedule_name(self) -> str:
        return f"{self.stack_name}-retention"

    def retention_code_key(self, sha256: str) -> str:
        """The retention function's zip in the artifacts bucket: content-addressed like the ingest zip."""
        return f"retention/{self.env}/{sha256}.zip"

    @property
    def alarm_topic_name(self) -> str:
        """The stack's SNS topic when `alarms.email` is set."""
        return f"{self.stack_name}-alarms"

    # -- readers (tasks/steps/readers.py): who may query the tables, and what Athena needs ----------------
    @property
    def readers_policy_name(self) -> str:
        """The stack's customer managed policy that readers' roles attach to query through Athena."""
        return f"{self.stack_name}-readers"

    def readers_policy_arn(self, account_id: str) -> str:
        return self.arn("iam", f"policy/{self.readers_policy_name}", account_id, region="")

    @property
    def readers_record_name(self) -> str:
        """The SSM parameter listing the principals deploy granted read access to: what it may revoke."""
        return f"/{PROJECT}/{self.env}/readers"

    # -- Athena (templates/athena.yaml.j2, tasks/engines/athena.py) -----------------------------------------
    @property
    def athena_workgroup(self) -> str:
        """The stack's Athena workgroup: `doit query engine=athena` and Grafana's data source run in it."""
        return self.stack_name

    @property
    def athena_catalog(self) -> str:
        """The table bucket as Athena names its catalog (the federated Glue catalog's child)."""
        return f"{CATALOG_NAME}/{self.table_bucket_name}"

    def athena_results_bucket_name(self, account_id: str) -> str:
        """Where the workgroup writes query results (as long as the error bucket's name: same env limit)."""
        return f"{self.stack_name}-athena-{account_id}-{self.region}"

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
        return paths.BUILD_DIR / self.env  # read at call time: tests point it elsewhere

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
            "alarms": vars(self.alarms).copy(),
            "athena": vars(self.athena).copy(),
            "readers": list(self.readers),
            "retention": {"days": self.retention.days, **dict(self.retention.by_signal)},
        }
