"""A merged env document (tasks/config.py) checked into a Config: each error is one line naming the value
and the rule, raised before any AWS call."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from lake.lambda_facts import has_function_urls
from lake.regions import (
    REGION_RE,
    has_iceberg_destination,
    known_regions,
    no_iceberg_rule,
    partition,
)
from lake.signals import ALL_SIGNALS
from tasks.errors import UserError
from tasks.ingest_lambda import lambda_settings
from tasks.settings import (
    ACCOUNT_ID_LEN,
    MAX_BUCKET_NAME,
    PROJECT,
    TAG_PREFIX,
    AlarmSettings,
    AthenaSettings,
    Config,
    FirehoseSettings,
    IngestSettings,
    RetentionSettings,
    TableSettings,
)
from tasks.settings_table import (
    LOG_RETENTION_DAYS,
    SETTINGS,
    integer,
    refuse,
    required_int,
    required_str,
    string,
)

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
# An address SNS's email protocol takes: one @, a dotted domain, no spaces or list separators.
_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# A bearer token: RFC 6750's b64token characters, long enough not to be guessed.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/_-]{16,512}=*$")
_TOPIC_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z][a-z-]*):sns:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$"
)
# DataFreshness is normally at most the buffering interval plus a commit; five minutes more is a stall.
FRESHNESS_MARGIN_SECONDS = 300
# Tag keys and values valid under every published rule: CloudFormation's S3 Tables schema (letters, digits,
# spaces and _./=+-@, no `:`), within S3's and IAM's wider ones (aws-facts.md, "Tag keys").
_TAG_RE = re.compile(r"^[\w ./=+\-@]*$")


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known key nearest to a mistyped one (difflib's ratio, at least 0.6), matched on the whole dotted
    key or on its last part, so `buffering_interval_seconds` finds `firehose.buffering_interval_seconds`."""
    best, score = None, 0.6
    for key in known:
        ratio = max(
            difflib.SequenceMatcher(None, name, key).ratio(),
            difflib.SequenceMatcher(None, name, key.rsplit(".", 1)[-1]).ratio() if "." in key else 0.0,
        )
        if ratio > score or (ratio == score and best is None):
            best, score = key, ratio
    return best


def unknown_hint(name: str, known: Sequence[str], kind: str = "settings") -> str:
    """What an error about an unknown key ends with: the closest known key, or the known ones."""
    near = closest(name, known)
    return f"did you mean {near}?" if near else f"known {kind} are {', '.join(known)}"


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


def _athena(raw: Any) -> AthenaSettings:
    """`athena.*`: the results' expiry and the workgroup's scan limit (null: none), in their rows' bounds."""
    section = raw if isinstance(raw, dict) else {}
    return AthenaSettings(
        required_int("athena.results_expiry_days", section.get("results_expiry_days")),
        integer("athena.bytes_scanned_cutoff_mb", section.get("bytes_scanned_cutoff_mb")),
    )


def _alarms(raw: Any, region: str, buffering_interval: int) -> AlarmSettings:
    """`alarms.*`: one of email and topic_arn (or neither), the topic in the env's region and partition."""
    al = raw if isinstance(raw, dict) else {}
    email = string("alarms.email", al.get("email"))
    if email is not None and (len(email) > 254 or not _EMAIL_RE.fullmatch(email)):
        raise refuse("alarms.email", email)
    topic = string("alarms.topic_arn", al.get("topic_arn"))
    if topic is not None:
        match = _TOPIC_ARN_RE.fullmatch(topic)
        if not match or match["partition"] != partition(region) or match["region"] != region:
            raise refuse(
                "alarms.topic_arn",
                topic,
                f"an SNS topic ARN in {region}, arn:{partition(region)}:sns:{region}:ACCOUNT:NAME "
                "(CloudWatch alarms notify topics of their own region)",
            )
    if email is not None and topic is not None:
        raise UserError(
            "error: alarms.email and alarms.topic_arn are both set: set one (email: the stack makes a topic "
            "with that subscription; topic_arn: an existing topic), or neither to notify nobody"
        )
    freshness = al.get("freshness_seconds")
    if freshness is None:
        freshness = buffering_interval + FRESHNESS_MARGIN_SECONDS
    return AlarmSettings(email, topic, required_int("alarms.freshness_seconds", freshness))


# The readers record (tasks/steps/readers.py) is one Standard-tier SSM parameter: 4 KB of newline-joined ARNs.
READERS_RECORD_MAX = 4096


def _readers(raw: Any, region: str) -> tuple[str, ...]:
    """`readers`: full IAM role/user ARNs of the region's partition, path included, each once. The account
    is checked once it is known (tasks/steps/readers.py's check_accounts, before any write)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise UserError(f"error: readers={raw!r} is invalid: must be a list of IAM role or user ARNs")
    part = partition(region)
    for i, arn in enumerate(raw):
        match = _PRINCIPAL_RE.fullmatch(arn) if isinstance(arn, str) else None
        if not match or match["partition"] != part:
            raise UserError(
                f"error: readers[{i}]={arn!r} is invalid: must be the full ARN of an IAM role or user of "
                f"{region}'s partition, path included, such as arn:{part}:iam::123456789012:role/NAME or "
                f"arn:{part}:iam::123456789012:role/aws-reserved/sso.amazonaws.com/NAME"
            )
    dup = next((a for i, a in enumerate(raw) if a in raw[:i]), None)
    if dup is not None:
        raise UserError(f"error: readers lists {dup!r} twice: name each principal once")
    size = len("\n".join(raw))
    if size > READERS_RECORD_MAX:
        raise UserError(
            f"error: readers holds {len(raw)} ARNs of {size} characters: at most "
            f"{READERS_RECORD_MAX} characters (the record of readers is one SSM parameter); give a group of "
            "people one IAM role and name that role"
        )
    return tuple(raw)


def _retention(days: Any, raw: Any) -> RetentionSettings:
    """`retention_days` and `retention.SIGNAL`: whole days in their rows' bounds, or null (the signal: the
    env's value; the env: keep every row)."""
    per = raw if isinstance(raw, dict) else {}
    by_signal = {s: integer(f"retention.{s}", per.get(s)) for s in ALL_SIGNALS}
    return RetentionSettings(integer("retention_days", days), by_signal)


def _ingest(raw: Any) -> IngestSettings:
    """`ingest.*`: the local receiver's; the deployed function's are tasks/ingest_lambda.py's."""
    ing = raw if isinstance(raw, dict) else {}
    token = ing.get("token")
    if token is not None and (not isinstance(token, str) or not _TOKEN_RE.fullmatch(token)):
        raise UserError(f"error: ingest.token is invalid: must be {SETTINGS['ingest.token'].rule}")
    integer("ingest.reserved_concurrency", ing.get("reserved_concurrency"))
    return IngestSettings(
        port=required_int("ingest.port", ing.get("port")),
        max_body_mb=required_int("ingest.max_body_mb", ing.get("max_body_mb")),
        token=token,  # never in the error above: a secret
        sender_deadline_seconds=required_int(
            "ingest.sender_deadline_seconds", ing.get("sender_deadline_seconds")
        ),
        max_rows=required_int("ingest.max_rows", ing.get("max_rows")),
        function=lambda_settings(ing),
    )


def _region(env: str, c: dict[str, Any]) -> str:
    region = required_str("region", c.get("region"))
    if not REGION_RE.fullmatch(region) or region not in known_regions():
        raise UserError(
            f"error: region={region!r} is unknown: must be an AWS region where Firehose runs, e.g. us-east-1"
        )
    if not has_iceberg_destination(region):
        raise UserError(f"error: region={region!r} is not supported: {no_iceberg_rule()}")
    longest = max_env_length(region)
    if len(env) > longest:
        example = env[:longest].rstrip("-")
        raise UserError(
            f"error: env name {env!r} ({len(env)} characters) is too long for {region}: the error bucket "
            f"'{PROJECT}-{env}-errors-<account>-{region}' would exceed 63 characters; "
            f"the longest env that fits is {longest} characters, e.g. {example!r}"
        )
    return region


def _signals(raw: Any) -> tuple[str, ...]:
    choices = ", ".join(ALL_SIGNALS)
    if not isinstance(raw, list) or not raw:
        raise refuse("signals", raw, f"a non-empty list of {choices}")
    for sig in raw:
        if sig not in ALL_SIGNALS:
            raise UserError(f"error: signal {sig!r} is unknown: must be one of {choices}")
    if len(set(raw)) != len(raw):
        raise UserError(f"error: signals={raw!r} is invalid: a signal is listed twice")
    return tuple(s for s in ALL_SIGNALS if s in raw)


def _firehose(raw: Any) -> FirehoseSettings:
    fh = raw if isinstance(raw, dict) else {}
    prefix = fh.get("error_output_prefix")
    if (
        not isinstance(prefix, str)
        or not _PREFIX_RE.fullmatch(prefix)
        or len(prefix) > 900
        or prefix.startswith("/")
        or (prefix and not prefix.endswith("/"))
    ):
        raise refuse("firehose.error_output_prefix", prefix)
    return FirehoseSettings(
        buffering_interval_seconds=required_int(
            "firehose.buffering_interval_seconds", fh.get("buffering_interval_seconds")
        ),
        buffering_size_mb=required_int("firehose.buffering_size_mb", fh.get("buffering_size_mb")),
        retry_duration_seconds=required_int(
            "firehose.retry_duration_seconds", fh.get("retry_duration_seconds")
        ),
        error_output_prefix=prefix,
    )


def _tables(raw: Any) -> TableSettings:
    tb = raw if isinstance(raw, dict) else {}
    return TableSettings(
        compaction_target_mb=required_int("tables.compaction_target_mb", tb.get("compaction_target_mb")),
        snapshot_min_to_keep=required_int("tables.snapshot_min_to_keep", tb.get("snapshot_min_to_keep")),
        snapshot_max_age_hours=required_int(
            "tables.snapshot_max_age_hours", tb.get("snapshot_max_age_hours")
        ),
    )


def _tags(raw: Any) -> dict[str, str]:
    tags = {} if raw is None else raw
    if not isinstance(tags, dict):
        raise refuse("tags", tags, "a mapping of key: value")
    if len(tags) > 49:  # 50 per resource, one is the env tag
        raise UserError(f"error: tags has {len(tags)} entries: at most 49 (the env tag makes 50)")
    for k, v in tags.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 128 or not _TAG_RE.fullmatch(k):
            raise UserError(
                f"error: tag key {k!r} is invalid: 1-128 letters, digits, spaces and _./=+-@ (no ':': "
                "CloudFormation's S3 Tables schema does not allow it)"
            )
        if k.startswith(TAG_PREFIX):
            raise UserError(
                f"error: tag key {k!r} is reserved: keys starting with '{TAG_PREFIX}' are set by the tool"
            )
        if (
            isinstance(v, bool)
            or not isinstance(v, str | int)
            or len(str(v)) > 256
            or not _TAG_RE.fullmatch(str(v))
        ):
            raise UserError(
                f"error: tag {k}={v!r} is invalid: values are at most 256 letters, digits, spaces "
                "and _./=+-@ (no ':')"
            )
    return {str(k): str(v) for k, v in tags.items()}


def _endpoint(raw: Any) -> str | None:
    endpoint = string("endpoint", raw)
    if endpoint is not None:
        parsed = urlparse(endpoint)
        try:
            port_ok = parsed.port is None or 0 < parsed.port < 65536
        except ValueError:
            port_ok = False
        if parsed.scheme not in ("http", "https") or not parsed.hostname or not port_ok:
            raise refuse("endpoint", endpoint)
    return endpoint


def validate(env: str, c: dict[str, Any]) -> Config:
    """The merged document `c` of env `env` as a Config, or the first value its rule refuses."""
    region = _region(env, c)
    namespace = required_str("namespace", c.get("namespace"))
    if not _NAMESPACE_RE.fullmatch(namespace) or len(namespace) > 255 or namespace.startswith("aws"):
        raise refuse("namespace", namespace)
    firehose = _firehose(c.get("firehose"))
    retention = c.get("log_retention_days")
    if isinstance(retention, bool) or retention not in LOG_RETENTION_DAYS:
        raise refuse("log_retention_days", retention)
    profile = string("profile", c.get("profile"))
    if profile is not None and not _PROFILE_RE.fullmatch(profile):
        raise refuse("profile", profile)
    caller = string("caller_principal", c.get("caller_principal"))
    caller_match = _PRINCIPAL_RE.fullmatch(caller) if caller is not None else None
    if caller is not None and (not caller_match or caller_match["partition"] != partition(region)):
        raise refuse(
            "caller_principal",
            caller,
            f"the full ARN of an IAM role or user of {region}'s partition, path included, such as "
            f"arn:{partition(region)}:iam::123456789012:role/aws-reserved/sso.amazonaws.com/NAME",
        )
    ingest = _ingest(c.get("ingest"))
    if ingest.function.enabled and not has_function_urls(region):
        raise UserError(
            f"error: region={region!r} has no Lambda function URLs, which ingest.enabled needs for the "
            f"ingest endpoint: set ingest.enabled: false for env {env} (or ingest.enabled=false), or choose "
            "another region"
        )
    return Config(
        env=env,
        region=region,
        namespace=namespace,
        signals=_signals(c.get("signals")),
        firehose=firehose,
        tables=_tables(c.get("tables")),
        log_retention_days=retention,
        error_expiry_days=required_int("error_expiry_days", c.get("error_expiry_days")),
        tags=_tags(c.get("tags")),
        profile=profile,
        endpoint=_endpoint(c.get("endpoint")),
        ingest=ingest,
        caller_principal=caller,
        alarms=_alarms(c.get("alarms"), region, firehose.buffering_interval_seconds),
        athena=_athena(c.get("athena")),
        readers=_readers(c.get("readers"), region),
        retention=_retention(c.get("retention_days"), c.get("retention")),
    )
