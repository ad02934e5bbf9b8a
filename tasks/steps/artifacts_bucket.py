"""The account-and-region artifacts bucket `otlp2pipeline-artifacts-ACCOUNT-REGION`: the ingest zips.

Shared by every env of the account and region, so deploy creates it when missing and sets what differs,
and destroy keeps it (like the Lake Formation setup). Private (public access block), encrypted (SSE-S3
by default), TLS only (a Deny statement on `aws:SecureTransport: false`), open to S3 server access
logs of each env's error bucket (one statement per env, `access-logs/ENV/`), and versioned.

Why no lifecycle rule can take a code key a stack still needs. A rollback sets the function back to its
previous `Code.S3Key`, and fails (UPDATE_ROLLBACK_FAILED) when that object is gone (aws-facts.md,
"Rollbacks re-read old artifacts"). So the zips' prefix `ingest/` has no rule that acts on a current
object: its rule (`otlp2pipeline-expire-old-artifacts`) only removes noncurrent versions 30 days after they
became noncurrent, delete markers left alone, and unfinished uploads. A key (`ingest/ENV/SHA256.zip`,
content-addressed, never overwritten) is therefore current until the tool deletes it, and the tool deletes
only the key an update moved away from, after that update completed (tasks/steps/rollback_code.py
`retire`): the deployed key and, during an update, the previous one stay current. A deleted key stays
restorable from its noncurrent version for those 30 days. Before each stack update deploy checks the
deployed key and puts it back if someone removed it (rollback_code.py). The S3 server access logs under
`access-logs/` (a different prefix) expire 30 days after they are written, their noncurrent versions 30
days later. An older bucket's single rule (every object expired after 30 days) is replaced by these two
with the next upload. Other statements and lifecycle rules someone added are kept; one that expires
current objects under `ingest/` is named in a note.

Reads: the zip's key first (the one HeadObject deploy:ingest_code makes anyway, shared through the
context). When the current zip is there, the bucket is too, and nothing more is read: a converged deploy
makes that one read. Only when a zip must be uploaded is the bucket itself read (five settings) and
created or repaired, so its settings are checked before every upload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome

NAME = "artifacts_bucket"
RULE_ID = "otlp2pipeline-expire-old-artifacts"  # the zips' noncurrent versions only
LOGS_RULE_ID = "otlp2pipeline-expire-access-logs"
CODE_PREFIX = "ingest/"
LOGS_PREFIX = "access-logs/"
TLS_SID = "DenyInsecureTransport"
LOGS_SID_PREFIX = "ServerAccessLogsOf"
EXPIRY_DAYS = 30
PUBLIC_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass(frozen=True)
class Desired:
    bucket: str
    bucket_arn: str
    region: str
    account_id: str
    env: str
    access_logs_arn: str  # this env's access-logs/ENV/* objects
    error_bucket_arn: str  # the only bucket whose access logs may be written there


@dataclass(frozen=True)
class Observed:
    exists: bool
    holds_current_zip: bool = False  # then its settings were not read: nothing is uploaded this time
    encryption: str | None = None  # SSEAlgorithm of the default encryption rule
    public_block: dict[str, bool] = field(default_factory=dict)
    tls_only: bool = False
    logs_allowed: bool = False  # this env's S3 server access logs statement is there, as desired
    versioning: str | None = None
    policy: dict[str, Any] | None = None
    rules: list[dict[str, Any]] = field(default_factory=list)  # every lifecycle rule, ours included


def desired(ctx: Context) -> Desired:
    acct = ctx.account_id
    cfg = ctx.config
    return Desired(
        cfg.artifacts_bucket_name(acct),
        cfg.artifacts_bucket_arn(acct),
        cfg.region,
        acct,
        cfg.env,
        cfg.access_logs_arn(acct),
        cfg.error_bucket_arn(acct),
    )


def lifecycle_rules() -> list[dict[str, Any]]:
    """Ours: nothing under `ingest/` expires while it is current (see the module's docstring)."""
    return [
        {
            "ID": RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": CODE_PREFIX},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
            "NoncurrentVersionExpiration": {"NoncurrentDays": EXPIRY_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "ID": LOGS_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": LOGS_PREFIX},
            "Expiration": {"Days": EXPIRY_DAYS},
            "NoncurrentVersionExpiration": {"NoncurrentDays": EXPIRY_DAYS},
        },
    ]


OUR_RULES = (RULE_ID, LOGS_RULE_ID)
COMPARED = ("Status", "Filter", "Expiration", "NoncurrentVersionExpiration")


def _rules_ok(rules: list[dict[str, Any]]) -> bool:
    have = {r.get("ID"): r for r in rules}
    return all(
        r["ID"] in have and all(have[r["ID"]].get(k) == r.get(k) for k in COMPARED) for r in lifecycle_rules()
    )


def expires_code(rule: dict[str, Any]) -> bool:
    """Someone's enabled rule that expires current objects under `ingest/` (a key a rollback may need)."""
    if rule.get("ID") in OUR_RULES or rule.get("Status") != "Enabled":
        return False
    expiration = rule.get("Expiration") or {}
    if not (expiration.get("Days") or expiration.get("Date")):
        return False
    filt = rule.get("Filter") or {}
    if "Tag" in filt or (filt.get("And") or {}).get("Tags"):
        return False  # the zips are put without tags
    prefix = str(filt.get("Prefix", (filt.get("And") or {}).get("Prefix", rule.get("Prefix", ""))) or "")
    return CODE_PREFIX.startswith(prefix) or prefix.startswith(CODE_PREFIX)


def tls_statement(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def logs_sid(env: str) -> str:
    """One statement per env (Sids are unique in a policy); envs are lowercase, so X stands for '-'."""
    return f"{LOGS_SID_PREFIX}{env.replace('-', 'X')}"


def logs_statement(want: Desired) -> dict[str, Any]:
    """S3 server access logs of the env's error bucket, written by the logging service (S3 user guide:
    a bucket policy for logging.s3.amazonaws.com, limited by aws:SourceArn and aws:SourceAccount)."""
    return {
        "Sid": logs_sid(want.env),
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": want.access_logs_arn,
        "Condition": {
            "ArnLike": {"aws:SourceArn": want.error_bucket_arn},
            "StringEquals": {"aws:SourceAccount": want.account_id},
        },
    }


def _read(call: Any, missing: tuple[str, ...], **kwargs: Any) -> dict[str, Any] | None:
    """One read; None when the configuration is absent (its own NoSuch... code)."""
    try:
        return dict(call(**kwargs))
    except ClientError as exc:
        if error_code(exc) in missing:
            return None
        raise


def zips_present(ctx: Context) -> bool:
    """Every zip the env uploads is there (the ingest function's, the retention function's): then so is
    the bucket, and nothing is uploaded this time."""
    from tasks.steps import ingest_code, retention_code

    steps = [s for s, on in ((ingest_code, ctx.config.ingest.function.enabled),
                             (retention_code, ctx.config.retention_enabled)) if on]  # fmt: skip
    return all(s.observe(ctx).present for s in steps)


def observe(ctx: Context) -> Observed:
    if zips_present(ctx):
        return Observed(True, holds_current_zip=True)
    want = desired(ctx)
    s3 = ctx.clients.s3
    args = {"Bucket": want.bucket, "ExpectedBucketOwner": want.account_id}
    # A missing bucket answers NoSuchBucket to the first read: one read, then nothing more.
    try:
        enc = _read(s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), **args)
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return Observed(False)
        raise
    rules = (enc or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    algo = next((r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules), None)
    pab = _read(s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), **args) or {}
    pol = _read(s3.get_bucket_policy, ("NoSuchBucketPolicy",), **args)
    policy = json.loads(pol["Policy"]) if pol else None
    tls = tls_statement(want.bucket_arn)
    statements = (policy or {}).get("Statement", [])
    versioning = s3.get_bucket_versioning(**args).get("Status")
    life = _read(s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",), **args) or {}
    return Observed(
        True,
        False,
        algo,
        dict(pab.get("PublicAccessBlockConfiguration", {})),
        any(_same_statement(s, tls) for s in statements),
        any(_same_statement(s, logs_statement(want)) for s in statements),
        versioning,
        policy,
        list(life.get("Rules", [])),
    )


def _same_statement(have: dict[str, Any], want: dict[str, Any]) -> bool:
    from tasks.step import normalize

    return bool(normalize(have) == normalize(want))


def diff(want: Desired, have: Observed) -> Diff:
    res = f"s3 bucket {want.bucket}"
    if not have.exists:
        return Diff([Change("create", res, {"Bucket": (None, want.bucket)})])
    if have.holds_current_zip:
        return Diff([])
    fields: dict[str, tuple[Any, Any]] = {}
    if have.encryption not in ("AES256", "aws:kms", "aws:kms:dsse"):
        fields["Encryption"] = (have.encryption, "AES256")
    if any(have.public_block.get(k) is not True for k in PUBLIC_BLOCK):
        fields["PublicAccessBlock"] = (have.public_block, PUBLIC_BLOCK)
    if not have.tls_only or not have.logs_allowed:
        missing = [
            sid for sid, ok in ((TLS_SID, have.tls_only), (logs_sid(want.env), have.logs_allowed)) if not ok
        ]
        fields["Policy"] = ("statements missing or changed", missing)
    if have.versioning != "Enabled":
        fields["Versioning"] = (have.versioning, "Enabled")
    if not _rules_ok(have.rules):
        ours = [r for r in have.rules if r.get("ID") in OUR_RULES]
        fields["Lifecycle"] = (ours or None, lifecycle_rules())
    notes = [
        f"artifacts bucket {want.bucket}: lifecycle rule {r.get('ID')!r} expires current objects under "
        f"{CODE_PREFIX}: a stack's code key could go (deploy checks the deployed one before each update)"
        for r in have.rules
        if expires_code(r)
    ]
    return Diff([Change("update", res, fields)] if fields else [], notes)


def apply(ctx: Context, d: Diff) -> Outcome:
    want: Desired = d.desired
    have: Observed = d.observed
    s3 = ctx.clients.s3
    args = {"Bucket": want.bucket, "ExpectedBucketOwner": want.account_id}
    change = d.changes[0]
    if change.action == "create":
        create: dict[str, Any] = {"Bucket": want.bucket}
        if want.region != "us-east-1":  # us-east-1 refuses its own name as a LocationConstraint
            create["CreateBucketConfiguration"] = {"LocationConstraint": want.region}
        s3.create_bucket(**create)
        have = Observed(True)
    todo = set(change.fields) if change.action == "update" else {"Encryption", "PublicAccessBlock", "Policy",
                                                                   "Versioning", "Lifecycle"}  # fmt: skip
    if "PublicAccessBlock" in todo:
        s3.put_public_access_block(PublicAccessBlockConfiguration=PUBLIC_BLOCK, **args)
    if "Encryption" in todo:
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
        s3.put_bucket_encryption(ServerSideEncryptionConfiguration={"Rules": [rule]}, **args)
    if "Versioning" in todo:
        s3.put_bucket_versioning(VersioningConfiguration={"Status": "Enabled"}, **args)
    if "Lifecycle" in todo:
        others = [r for r in have.rules if r.get("ID") not in OUR_RULES]
        s3.put_bucket_lifecycle_configuration(
            LifecycleConfiguration={"Rules": [*others, *lifecycle_rules()]}, **args
        )
    if "Policy" in todo:
        policy = dict(have.policy or {"Version": "2012-10-17", "Statement": []})
        ours = (TLS_SID, logs_sid(want.env))
        kept = [s for s in policy.get("Statement", []) if s.get("Sid") not in ours]
        policy["Statement"] = [*kept, tls_statement(want.bucket_arn), logs_statement(want)]
        s3.put_bucket_policy(Policy=json.dumps(policy), **args)
    return Outcome("created" if change.action == "create" else "updated")


def report(have: Observed) -> list[tuple[str, str]]:
    if not have.exists:
        return [("artifacts bucket", "missing")]
    if have.holds_current_zip:
        return [("artifacts bucket", "holds the current zip (settings are checked before each upload)")]
    state = (
        f"encryption={have.encryption} versioning={have.versioning} tls_only={have.tls_only} "
        f"access_logs_allowed={have.logs_allowed} "
        f"public_blocked={all(have.public_block.get(k) is True for k in PUBLIC_BLOCK)} "
        f"lifecycle={'set' if _rules_ok(have.rules) else 'differs'}"
    )
    return [("artifacts bucket", state)]
