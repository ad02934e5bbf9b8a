"""The canonical description of an env and of the account setup: what "converged" means in
tests/reliability/. Two states are the same when their descriptions are equal. It drops what AWS regenerates
on every create (timestamps, version ids, stack and change-set ids, CloudFormation's random name suffixes) and
keeps everything a user could tell apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from lake.signals import ALL_SIGNALS
from tasks.config import Config, load

ACCOUNT = "123456789012"
REGION = "us-east-1"
LF_ROLE = "S3TablesRoleForLakeFormation"
CATALOG = "s3tablescatalog"
DEFAULT_SIGNALS = ("logs", "traces", "sum", "gauge")


def config(emu: Any, env: str = "local", **overrides: str) -> Config:
    return load(env, {"endpoint": emu.endpoint, **overrides})


# -- canonical descriptions ----------------------------------------------------------------------------

VOLATILE_KEYS = frozenset(
    {
        "ResponseMetadata",
        "CreateTimestamp",
        "LastUpdateTimestamp",
        "VersionId",
        "CreationTime",
        "LastUpdatedTime",
        "LastUpdatedTimestamp",
        "CreateDate",
        "RoleId",
        "LastUpdated",
        "LastModified",
        "CreateTime",
        "UpdateTime",
        "createdAt",
        "modifiedAt",
        "creationTime",
        "ChangeSetId",
        "StackId",
        "DriftInformation",
        "versionToken",
        "metadataLocation",
        "warehouseLocation",
        "tableARN",
        "storedBytes",
        "lastEventTimestamp",
        "firstEventTimestamp",
        "lastIngestionTime",
        "uploadSequenceToken",
        "ETag",
        "tableBucketId",
        "namespaceId",
    }
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# CloudFormation's physical-name suffix (e.g. otlp2pipeline-local-FirehoseRole-TYJOPGLXXV27).
_CFN_SUFFIX = re.compile(r"-[A-Z0-9]{12,13}\b")
_CHANGE_SET = re.compile(r"deploy-\d{14}-\d{3}")
# A secret's ARN ends in six random characters (Secrets Manager's suffix); a Function URL in its random id.
_SECRET_SUFFIX = re.compile(r"(:secret:\S+)-[A-Za-z0-9]{6}$")
_URL_ID = re.compile(r"(/_lambda-url/|^https://)[a-z0-9]{32}(?=[/.])")


def scrub(value: Any) -> Any:
    """Plain, sorted, comparable data without what every create regenerates."""
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in sorted(value.items()) if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        items = [scrub(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, str):
        value = _URL_ID.sub(r"\1<url-id>", _SECRET_SUFFIX.sub(r"\1-<random>", value))
        return _CHANGE_SET.sub("deploy-<ts>", _CFN_SUFFIX.sub("-<cfn>", _UUID.sub("<uuid>", value)))
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


def _missing(exc: ClientError, *codes: str) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in codes


def _role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if _missing(exc, "NoSuchEntity"):
            return None
        raise
    inline = {
        p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
    }
    attached = [a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
    tags = iam.list_role_tags(RoleName=name).get("Tags", [])
    return {"role": role, "inline": inline, "attached": attached, "tags": tags}


def _all_permissions(lf: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = lf.list_permissions(**kwargs)
        out += page.get("PrincipalResourcePermissions", [])
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def describe_account(emu: Any) -> dict[str, Any]:
    """The account-level setup every env shares, plus everything Lake Formation and Glue hold."""
    lf, glue, iam = emu.client("lakeformation"), emu.client("glue"), emu.client("iam")
    roles = {r["Arn"] for r in iam.list_roles()["Roles"]}
    live: list[dict[str, Any]] = []
    orphans: list[dict[str, Any]] = []
    for p in _all_permissions(lf):
        principal = str(p.get("Principal", {}).get("DataLakePrincipalIdentifier", ""))
        (orphans if ":role/" in principal and principal not in roles else live).append(p)
    return scrub(
        {
            "lf_role": _role(iam, LF_ROLE),
            "data_lake_settings": lf.get_data_lake_settings().get("DataLakeSettings", {}),
            "registrations": lf.list_resources().get("ResourceInfoList", []),
            "catalogs": glue.get_catalogs().get("CatalogList", []),
            "lf_permissions": live,
            # grants to an IAM role that no longer exists (grant nothing; kept apart so they can be named)
            "orphan_grants": orphans,
        }
    )


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if _missing(exc, "ValidationError"):
            return None
        raise
    if stack["StackStatus"] == "DELETE_COMPLETE":
        return None
    resources = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    template = cfn.get_template(StackName=name, TemplateStage="Original").get("TemplateBody")
    change_sets = cfn.list_change_sets(StackName=name).get("Summaries", [])
    return {
        "stack": stack,
        "resources": resources,
        "template": template if isinstance(template, dict) else str(template),
        "change_sets": [{k: c.get(k) for k in ("Status", "ExecutionStatus")} for c in change_sets],
    }


def _iceberg(s3t: Any, arn: str, namespace: str, name: str) -> dict[str, Any]:
    from pyiceberg.table import StaticTable

    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace=namespace, name=name)
    table = StaticTable.from_metadata(loc["metadataLocation"])
    schema = table.schema()
    return {
        "format_version": table.metadata.format_version,
        "fields": [[f.field_id, f.name, str(f.field_type), f.required] for f in schema.fields],
        "partition": [[p.source_id, str(p.transform), p.name] for p in table.spec().fields],
        "properties": {
            k: v for k, v in table.properties.items() if not k.startswith(("write.metadata", "created"))
        },
    }


def _table_bucket(emu: Any, cfg: Config) -> dict[str, Any] | None:
    s3t = emu.client("s3tables")
    arn = cfg.table_bucket_arn(ACCOUNT)
    try:
        s3t.get_table_bucket(tableBucketARN=arn)
    except ClientError as exc:
        if _missing(exc, "NotFoundException", "NoSuchBucket"):
            return None
        raise
    namespaces = [n["namespace"] for n in s3t.list_namespaces(tableBucketARN=arn).get("namespaces", [])]
    tables = {}
    for t in s3t.list_tables(tableBucketARN=arn).get("tables", []):
        ns = t["namespace"][0]
        got = s3t.get_table(tableBucketARN=arn, namespace=ns, name=t["name"])
        maintenance = s3t.get_table_maintenance_configuration(
            tableBucketARN=arn, namespace=ns, name=t["name"]
        )
        tables[f"{ns}.{t['name']}"] = {
            "table": {k: got.get(k) for k in ("name", "namespace", "type", "format")},
            "iceberg": _iceberg(s3t, arn, ns, t["name"]),
            "maintenance": maintenance["configuration"],
        }
    return {"namespaces": namespaces, "tables": tables}


def _streams(emu: Any, wanted: Callable[[str], bool]) -> dict[str, Any]:
    fh = emu.client("firehose")
    out = {}
    for name in fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
        if wanted(name):
            desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
            tags = fh.list_tags_for_delivery_stream(DeliveryStreamName=name).get("Tags", [])
            out[name] = {"description": desc, "tags": tags}
    return out


def _bucket(emu: Any, bucket: str) -> dict[str, Any] | None:
    s3 = emu.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if _missing(exc, "404", "NoSuchBucket", "NotFound"):
            return None
        raise

    def optional(call: Callable[[], Any], key: str) -> Any:
        try:
            return call().get(key)
        except ClientError:
            return None

    objects = s3.list_object_versions(Bucket=bucket)
    return {
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "lifecycle": optional(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket), "Rules"),
        "encryption": optional(
            lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfiguration"
        ),
        "public_access": optional(
            lambda: s3.get_public_access_block(Bucket=bucket), "PublicAccessBlockConfiguration"
        ),
        "tags": optional(lambda: s3.get_bucket_tagging(Bucket=bucket), "TagSet"),
        "objects": sorted(
            (v["Key"], v.get("Size", 0))
            for v in [*objects.get("Versions", []), *objects.get("DeleteMarkers", [])]
        ),
    }


def _logs(emu: Any, group: str) -> dict[str, Any] | None:
    logs = emu.client("logs")
    groups = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if g["logGroupName"] == group
    ]
    if not groups:
        return None
    streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    return {"group": groups[0], "streams": streams}


# What an alarm's evaluation changes (its state) is not what deploy converges.
ALARM_STATE_KEYS = frozenset(
    {
        "StateValue",
        "StateReason",
        "StateReasonData",
        "StateUpdatedTimestamp",
        "StateTransitionedTimestamp",
        "AlarmConfigurationUpdatedTimestamp",
    }
)


def _alarms(emu: Any, cfg: Config) -> dict[str, Any]:
    """The env's alarms by name (every signal's, so a removed signal's leftovers show; not another env's
    whose name starts alike, such as local-b's)."""
    from tasks.alarms import ROWS

    names = {cfg.alarm_name(scope, row.cause) for row in ROWS for scope in (*ALL_SIGNALS, "ingest")}
    found = emu.client("cloudwatch").describe_alarms(AlarmNamePrefix=cfg.alarm_prefix, MaxRecords=100)
    return {
        a["AlarmName"]: {k: v for k, v in a.items() if k not in ALARM_STATE_KEYS}
        for a in found["MetricAlarms"]
        if a["AlarmName"] in names
    }


def describe_env(emu: Any, cfg: Config) -> dict[str, Any]:
    """Every resource of one env: stack, its Firehose role, tables with their Iceberg schema, streams,
    error bucket, log group, the Lake Formation grants to the env's role, and the alarms."""
    stack = _stack(emu.client("cloudformation"), cfg.stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("stack", {}).get("Outputs", [])}
    role_name = outputs.get("FirehoseRoleName")
    role_arn = outputs.get("FirehoseRoleArn")
    grants = [
        p
        for p in _all_permissions(emu.client("lakeformation"))
        if role_arn and p.get("Principal", {}).get("DataLakePrincipalIdentifier") == role_arn
    ]
    return scrub(
        {
            "stack": stack,
            "firehose_role": _role(emu.client("iam"), role_name) if role_name else None,
            "table_bucket": _table_bucket(emu, cfg),
            "streams": _streams(emu, {cfg.stream_name(s) for s in ALL_SIGNALS}.__contains__),
            "error_bucket": _bucket(emu, cfg.error_bucket_name(ACCOUNT)),
            "logs": _logs(emu, cfg.log_group_name),
            "grants": grants,
            "alarms": _alarms(emu, cfg),
        }
    )


def as_created(doc: dict[str, Any]) -> None:
    """A stack made by importing the kept bucket and namespace, then updating, as if it had been created
    (its statuses are the only difference: IMPORT_COMPLETE/UPDATE_COMPLETE for CREATE_COMPLETE)."""
    stack = doc["env"]["stack"]
    stack["stack"]["StackStatus"] = "CREATE_COMPLETE"
    for res in stack["resources"]:
        res["ResourceStatus"] = "CREATE_COMPLETE"


def describe_all(emu: Any, cfg: Config) -> dict[str, Any]:
    return {"account": describe_account(emu), "env": describe_env(emu, cfg)}


def leftovers(emu: Any, cfg: Config) -> dict[str, Any]:
    """What remains of an env after destroy (empty when nothing does)."""
    doc = describe_env(emu, cfg)
    streams = {n: v for n, v in doc["streams"].items() if n in {cfg.stream_name(s) for s in cfg.signals}}
    roles = [
        r["RoleName"]
        for r in emu.client("iam").list_roles()["Roles"]
        if r["RoleName"].startswith(f"{cfg.stack_name}-FirehoseRole-")
    ]
    found = {**doc, "streams": streams, "stack_roles": roles}
    return {k: v for k, v in found.items() if v}


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two descriptions first differ, for a readable assertion message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: {'missing' if key not in a else _cut(a[key])} != " + (
                    "missing" if key not in b else _cut(b[key])
                )
            if a[key] != b[key]:
                return first_difference(a[key], b[key], f"{path}.{key}")
        return ""
    if a != b:
        return f"{path}: {_cut(a)} != {_cut(b)}"
    return ""


def _cut(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
