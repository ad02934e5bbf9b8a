"""Reliability tests' tools: a canonical description of an env and of the account setup, in-process deploy /
destroy that report failures as the CLI would, out-of-band breakage, row counting by run id, and the
summary printed at the end of the run.

The canonical description is what "converged" means in tests/test_reliability_*.py: two states are the same
when their descriptions are equal. It drops what AWS regenerates on every create (timestamps, version ids,
stack and change-set ids, CloudFormation's random name suffixes) and keeps everything a user could tell apart.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.aws import is_read
from tasks.config import Config, load
from tasks.errors import describe
from tasks.schemas import ALL_SIGNALS

ACCOUNT = "123456789012"
REGION = "us-east-1"
LF_ROLE = "S3TablesRoleForLakeFormation"
CATALOG = "s3tablescatalog"
DEFAULT_SIGNALS = ("logs", "traces", "sum", "gauge")

# The injected non-retryable failure. The issue suggests AccessDeniedException; the tool deliberately
# retries that code on RegisterResource right after creating the LF role (IAM propagation,
# tasks/steps/lf_resource.py), where a one-shot fault is then absorbed instead of failing the run. IAM's
# and S3's "AccessDenied" (403) means the same thing and no code path retries it.
FAIL_CODE = "AccessDenied"
FAIL_STATUS = 403


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


def scrub(value: Any) -> Any:
    """Plain, sorted, comparable data without what every create regenerates."""
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in sorted(value.items()) if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        items = [scrub(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, str):
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
    arn = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/{cfg.table_bucket_name}"
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
        tables[f"{ns}.{t['name']}"] = {
            "table": {k: got.get(k) for k in ("name", "namespace", "type", "format")},
            "iceberg": _iceberg(s3t, arn, ns, t["name"]),
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


def describe_env(emu: Any, cfg: Config) -> dict[str, Any]:
    """Every resource of one env: stack, its Firehose role, tables with their Iceberg schema, streams,
    error bucket, log group, and the Lake Formation grants to the env's role."""
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
        }
    )


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


# -- running the tool in-process ------------------------------------------------------------------------


@dataclass
class Attempt:
    """One in-process deploy or destroy: exit code and first error line as the CLI would print them."""

    code: int
    message: str = ""
    output: str = ""
    writes: list[tuple[str, str]] = field(default_factory=list)  # (step, operation) of each write sent
    calls: int = 0


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield buf


def deploy(cfg: Config, options: dict[str, Any] | None = None, capture: bool = True) -> Attempt:
    """`doit deploy` without doit: the runner's uptodate + apply per step, in dependency order.

    A failing step stops the run, as doit does; the message is the one `doit deploy` prints. Pass
    capture=False when deploys run on threads (redirecting sys.stdout is process-wide).
    """
    from tasks.runner import Run

    current: list[str] = ["-"]
    writes: list[tuple[str, str]] = []
    lock = threading.Lock()
    with _captured() if capture else contextlib.nullcontext(io.StringIO()) as out:
        try:
            run = Run(cfg, options)
        except Exception as exc:
            message, code = describe(exc)
            return Attempt(code, message, out.getvalue())

        def on_send(**kwargs: Any) -> None:
            _, _, rest = str(kwargs.get("event_name", "")).partition(".")
            op = rest.partition(".")[2]
            if not is_read(op):
                with lock:
                    writes.append((current[0], op))

        run.ctx.clients.session.events.register("before-send", on_send)
        for name, step in run.steps.items():
            if not step.deploys:
                continue
            current[0] = name
            try:
                if not run.uptodate(name):
                    run.apply(name)
            except Exception as exc:
                message, code = describe(exc)
                if not message.startswith(f"deploy:{name}"):
                    message = f"deploy:{name} failed: {message}"
                return Attempt(code or 1, message, out.getvalue(), writes, run.counter.total)
        return Attempt(0, "", out.getvalue(), writes, run.counter.total)


def destroy(cfg: Config) -> Attempt:
    """`doit destroy force=1` without doit."""
    from tasks.aws import Clients
    from tasks.destroy import destroy as run_destroy
    from tasks.step import Context

    with _captured() as out:
        clients = Clients(cfg)
        try:
            code = run_destroy(Context(cfg, clients), True)
        except Exception as exc:
            message, code = describe(exc)
            return Attempt(code, message, out.getvalue(), calls=clients.counter.total)
        return Attempt(code, "", out.getvalue(), calls=clients.counter.total)


def mutating(emu: Any) -> dict[str, int]:
    return {
        f"{c['service']}:{c['operation']}": c["count"] for c in emu.calls() if not is_read(c["operation"])
    }


def total_calls(emu: Any) -> int:
    return sum(int(c["count"]) for c in emu.calls())


def status_doc(cfg: Config) -> dict[str, Any]:
    """`doit status format=json` without doit: every step's observe + diff, checks included."""
    from tasks.runner import Run, status_dict

    with _captured():
        run = Run(cfg, include_checks=True)
        results = [run.evaluate(name) for name in run.steps]
        return status_dict(cfg, run, results)


def drifting(doc: dict[str, Any]) -> set[str]:
    return {s["step"] for s in doc["steps"] if not s["ok"]}


def json_from(stdout: str) -> dict[str, Any]:
    """The JSON document a `format=json` command printed (doit may print lines before it)."""
    doc: dict[str, Any] = json.loads(stdout[stdout.index("{") :])
    return doc


# -- rows ----------------------------------------------------------------------------------------------


def rows_by_seq(emu: Any, cfg: Config, signal: str, run_id: str) -> Counter[int]:
    """How many rows of `run_id` the signal's table holds, per sequence number."""
    from pyiceberg.table import StaticTable

    from tasks.records import RUN_ID_COLUMN, parse_key

    arn = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/{cfg.table_bucket_name}"
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=arn, namespace=cfg.namespace, name=signal
    )["metadataLocation"]
    table = StaticTable.from_metadata(loc)
    column = table.scan(selected_fields=(RUN_ID_COLUMN,)).to_arrow().column(RUN_ID_COLUMN).to_pylist()
    seqs: Counter[int] = Counter()
    for value in column:
        if value is None:
            continue
        rid, seq = parse_key(value)
        if rid == run_id:
            seqs[seq] += 1
    return seqs


def lost_and_duplicated(seqs: Counter[int], count: int) -> tuple[int, int]:
    lost = sum(1 for s in range(count) if seqs.get(s, 0) == 0)
    duplicated = sum(n - 1 for s, n in seqs.items() if n > 1) + sum(
        n for s, n in seqs.items() if not 0 <= s < count
    )
    return lost, duplicated


def flush_until_quiet(emu: Any, deadline_s: float = 60.0) -> dict[str, int]:
    """Flush the emulator's Firehose buffers until a flush delivers nothing more."""
    total = {"delivered": 0, "failed": 0}
    end = time.monotonic() + deadline_s
    delay = 0.05
    while True:
        got = emu.flush()
        total["delivered"] += int(got.get("delivered", 0))
        total["failed"] += int(got.get("failed", 0))
        if not got.get("delivered") and not got.get("failed"):
            return total
        if time.monotonic() > end:
            return total
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


# -- out-of-band breakage (plain boto3, as a person or another tool would) ----------------------------


def firehose_role_arn(emu: Any, cfg: Config) -> str:
    stack = emu.client("cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "FirehoseRoleArn")


def wait_stream_gone(emu: Any, name: str, deadline_s: float = 60.0) -> None:
    fh = emu.client("firehose")
    end = time.monotonic() + deadline_s
    delay = 0.05
    while name in fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
        assert time.monotonic() < end, f"stream {name} still exists after {deadline_s}s"
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def iceberg_config_of(emu: Any, name: str) -> dict[str, Any]:
    """A stream's Iceberg destination as a CreateDeliveryStream input."""
    desc = emu.client("firehose").describe_delivery_stream(DeliveryStreamName=name)[
        "DeliveryStreamDescription"
    ]
    ice = desc["Destinations"][0]["IcebergDestinationDescription"]
    s3 = ice["S3DestinationDescription"]
    return {
        "RoleARN": ice["RoleARN"],
        "CatalogConfiguration": {"CatalogARN": ice["CatalogConfiguration"]["CatalogARN"]},
        "DestinationTableConfigurationList": [
            {
                "DestinationDatabaseName": t["DestinationDatabaseName"],
                "DestinationTableName": t["DestinationTableName"],
            }
            for t in ice["DestinationTableConfigurationList"]
        ],
        "BufferingHints": ice["BufferingHints"],
        "CloudWatchLoggingOptions": ice["CloudWatchLoggingOptions"],
        "RetryOptions": ice.get("RetryOptions", {"DurationInSeconds": 300}),
        "S3BackupMode": "FailedDataOnly",
        "AppendOnly": ice.get("AppendOnly", False),
        "S3Configuration": {
            "RoleARN": s3["RoleARN"],
            "BucketARN": s3["BucketARN"],
            "ErrorOutputPrefix": s3.get("ErrorOutputPrefix", ""),
        },
    }


def update_stream(emu: Any, name: str, update: dict[str, Any]) -> None:
    fh = emu.client("firehose")
    desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId=desc["VersionId"],
        DestinationId=desc["Destinations"][0]["DestinationId"],
        IcebergDestinationUpdate=update,
    )


# -- the summary printed at the end of the run ---------------------------------------------------------
#
# Tests call record(name, value). Without xdist, a plugin registered by the autouse fixture
# `reliability_summary` prints the figures in pytest's terminal summary. Under xdist the controller never
# imports test modules, so each worker writes its figures under build/reliability/RUN/ and the last worker
# to finish prints the whole summary on its stderr (the controller's terminal), capture or not.

SUMMARY_DIR = Path(__file__).resolve().parents[2] / "build" / "reliability"
_metrics_lock = threading.Lock()
_metrics: dict[str, Any] = {}


def record(name: str, value: Any) -> None:
    """Keep one figure for the end-of-run summary."""
    with _metrics_lock:
        _metrics[name] = value


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    def ratio(key: str) -> str:
        got = metrics.get(key)
        return f"{got['converged']}/{got['tried']}" if isinstance(got, dict) else "not run"

    cli = [v for k, v in metrics.items() if k.startswith("cli_failure_point_")]
    repairs = {
        k.removeprefix("repair_failure_points_"): v for k, v in metrics.items() if k.startswith("repair_")
    }
    lines = [
        f"failure points converged/tried: deploy {ratio('deploy_failure_points')}, "
        f"destroy {ratio('destroy_failure_points')}, via the doit CLI "
        + (f"{sum(1 for v in cli if v.get('converged'))}/{len(cli)}" if cli else "not run"),
    ]
    for name, got in sorted(repairs.items()):
        lines.append(
            f"  repair of drift {name}: {got['converged']}/{got['tried']} ({', '.join(got['writes'])})"
        )
    if isinstance(metrics.get("deploy_failure_points"), dict):
        lines.append("  deploy writes: " + ", ".join(metrics["deploy_failure_points"]["writes"]))
    if isinstance(metrics.get("destroy_failure_points"), dict):
        lines.append("  destroy writes: " + ", ".join(metrics["destroy_failure_points"]["writes"]))
    t = metrics.get("throttle")
    lines.append(
        f"retries under 30% throttling: {t['throttled']} of {t['received']} calls throttled and retried, "
        f"flow succeeded ({t['detail']})"
        if isinstance(t, dict)
        else "retries under 30% throttling: not run"
    )
    r = metrics.get("records")
    lines.append(
        f"records with 20% partial put failures: {r['sent']} sent, {r['rows']} rows, lost {r['lost']}, "
        f"duplicated {r['duplicated']} ({r['resent']} failed records resent)"
        if isinstance(r, dict)
        else "records with 20% partial put failures: not run"
    )
    drift = {
        k.removeprefix("drift_"): v
        for k, v in metrics.items()
        if k.startswith("drift_") and k != "drift_notes"
    }
    lines.append(
        f"drift scenarios repaired: {sum(1 for v in drift.values() if v == 'repaired')}/{len(drift)}"
        + (
            f" ({', '.join(sorted(k for k, v in drift.items() if v != 'repaired'))} not repaired)"
            if any(v != "repaired" for v in drift.values())
            else ""
        )
    )
    for note in metrics.get("drift_notes", []):
        lines.append(f"  note: {note}")
    for key, label in (
        ("killed_deploy", "deploy killed mid-run"),
        ("unlocked_race", "two machines racing (no shared lock)"),
        ("collateral", "collateral damage"),
        ("concurrency", "two deploys at once"),
    ):
        lines.append(f"{label}: {metrics.get(key, 'not run')}")
    return lines


class SummaryPlugin:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "reliability summary")
        for line in summary_lines(recorded()):
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: Any) -> None:
        workerinput = getattr(session.config, "workerinput", None)
        if workerinput is None:
            return
        folder = SUMMARY_DIR / str(workerinput.get("testrunuid", "run"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{workerinput.get('workerid', 'gw')}.json").write_text(json.dumps(recorded(), default=str))
        import fcntl

        with (folder / "finished").open("a+") as done:
            fcntl.flock(done, fcntl.LOCK_EX)
            done.write("x")
            done.flush()
            done.seek(0)
            finished = len(done.read())
        if finished < int(workerinput.get("workercount", 1)):
            return
        merged: dict[str, Any] = {}
        for part in sorted(folder.glob("gw*.json")):
            merged.update(json.loads(part.read_text()))
        shutil.rmtree(folder, ignore_errors=True)
        text = "\n".join(["", "=" * 30 + " reliability summary " + "=" * 30, *summary_lines(merged), ""])
        capture = session.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            import sys

            sys.stderr.write(text + "\n")
            sys.stderr.flush()


_PLUGIN = SummaryPlugin()


def recorded() -> dict[str, Any]:
    with _metrics_lock:
        return dict(_metrics)


@pytest.fixture(autouse=True)
def reliability_summary(request: pytest.FixtureRequest) -> None:
    """Import into each reliability test module: registers the summary plugin (once per process)."""
    if not request.config.pluginmanager.is_registered(_PLUGIN):
        request.config.pluginmanager.register(_PLUGIN, "reliability-summary")
