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
from tasks.athena_settings import athena_settings
from tasks.errors import UserError
from tasks.settings import (
    ACCOUNT_ID_LEN,
    MAX_BUCKET_NAME,
    PROJECT,
    TAG_PREFIX,
    AlarmSettings,
    Config,
    FirehoseSettings,
    TableSettings,
    _ingest,
    _int,
    _str,
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
_TOPIC_ARN_RE = re.compile(
    r"^arn:(?P<partition>[a-z][a-z-]*):sns:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$"
)
# DataFreshness is normally at most the buffering interval plus a commit; five minutes more is a stall.
FRESHNESS_MARGIN_SECONDS = 300
# Tag keys and values valid under every published rule: CloudFormation's S3 Tables schema (letters, digits,
# spaces and _./=+-@, no `:`), within S3's and IAM's wider ones (aws-facts.md, "Tag keys").
_TAG_RE = re.compile(r"^[\w ./=+\-@]*$")
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


def _alarms(raw: Any, region: str, buffering_interval: int) -> AlarmSettings:
    """`alarms.*`: one of email and topic_arn (or neither), the topic in the env's region and partition."""
    al = raw if isinstance(raw, dict) else {}
    email = _str(al.get("email"), "alarms.email", optional=True)
    if email is not None and (len(email) > 254 or not _EMAIL_RE.fullmatch(email)):
        raise UserError(
            f"error: alarms.email={email!r} is invalid: must be one email address, e.g. ops@example.com"
        )
    topic = _str(al.get("topic_arn"), "alarms.topic_arn", optional=True)
    if topic is not None:
        match = _TOPIC_ARN_RE.fullmatch(topic)
        if not match or match["partition"] != partition(region) or match["region"] != region:
            raise UserError(
                f"error: alarms.topic_arn={topic!r} is invalid: must be an SNS topic ARN in {region}, "
                f"arn:{partition(region)}:sns:{region}:ACCOUNT:NAME (CloudWatch alarms notify topics of "
                "their own region)"
            )
    if email is not None and topic is not None:
        raise UserError(
            "error: alarms.email and alarms.topic_arn are both set: set one (email: the stack makes a topic "
            "with that subscription; topic_arn: an existing topic), or neither to notify nobody"
        )
    freshness = al.get("freshness_seconds")
    if freshness is None:
        freshness = buffering_interval + FRESHNESS_MARGIN_SECONDS
    freshness = _int(freshness, "alarms.freshness_seconds", 60, 86400)
    return AlarmSettings(email, topic, freshness)


def _validate(env: str, c: dict[str, Any]) -> Config:
    region = _str(c.get("region"), "region")
    assert region is not None
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
        signals=signals,
        firehose=firehose,
        tables=tables,
        log_retention_days=retention,
        error_expiry_days=expiry,
        tags={str(k): str(v) for k, v in tags.items()},
        profile=profile,
        endpoint=endpoint,
        ingest=ingest,
        caller_principal=caller,
        alarms=_alarms(c.get("alarms"), region, firehose.buffering_interval_seconds),
        athena=athena_settings(c.get("athena")),
    )
