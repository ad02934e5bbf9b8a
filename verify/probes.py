"""Probes of the AWS behaviour the tool could not confirm (docs/not-yet-confirmed.md), run against a
deployed env by verify/test_facts.py. Each says "confirmed", "differs: ..." or why it could not tell.

Every probe is read-only, or cleans up after itself: records it sends carry a fresh run id (as
verify/test_delivery.py's do), a tag it sets is removed, a function it creates is deleted. On the local
AWS each answers the side the tool chose, so `pytest verify/ --env local` passes them all.

Two probes send a record the table refuses, and a refused record fires the stream's records-to-error-bucket
alarm: `doit status` is unhealthy for the next minute, and the alarm notifies whoever it notifies. So they
run only when asked (`--probe-refusals`); otherwise they say why they did not run.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from lake import schemas
from lake.lambda_facts import SYNC_PAYLOAD_LIMIT
from tasks.alarms import notify
from tasks.aws import Clients
from tasks.config import Config
from tasks.errors import error_code
from tasks.polling import backoff, poll_until
from tasks.records import RUN_ID_COLUMN, encode, make_records, new_run_id
from verify import expect
from verify.delivery import error_records, list_error_keys
from verify.tables import static_table

Outcome = Literal["confirmed", "differs", "undetermined"]
UNKNOWN_KEY = "otlp2pipeline_probe_not_a_column"
CASES = ("absent", "unknown", "timestamp")
REFUSED_CASES = ("unknown", "timestamp")  # their records go to the error bucket (when the tool is right)
# A binary body whose base64 in the Function URL's event is above the 6 MB limit (4/3 of it).
OVERSIZED_BODY = 5_000_084


@dataclass(frozen=True)
class Finding:
    outcome: Outcome
    detail: str


def confirmed(detail: str) -> Finding:
    return Finding("confirmed", detail)


def differs(detail: str) -> Finding:
    return Finding("differs", detail)


def undetermined(detail: str) -> Finding:
    return Finding("undetermined", detail)


@dataclass
class RecordsSeen:
    """The records sent to one stream (one per case; the refused cases only when allowed), and where each
    went: a row, an error code, or nowhere yet."""

    signal: str
    keys: dict[str, str]  # case -> the record's run key
    left_out: str  # the optional column the "absent" record leaves out
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # run key -> row
    refused: dict[str, str] = field(default_factory=dict)  # run key -> errorCode
    problem: str = ""  # why the rows or error objects could not be read


@dataclass
class ProbeEnv:
    """What the probes need of the env; the record probe is sent once and shared."""

    config: Config
    clients: Clients
    account_id: str
    outputs: dict[str, str]
    margin: float
    connection: Callable[[], Any]  # the Function URL as `doit connect` reads it, or None
    refusals: bool = False  # may send the records the table refuses (see the module docstring)
    _records: RecordsSeen | None = None

    def records(self) -> RecordsSeen:
        if self._records is None:
            self._records = send_probe_records(self)
        return self._records


# -- records: an absent optional column, a key that is no column, a timestamp that is not an integer ------
def send_probe_records(env: ProbeEnv) -> RecordsSeen:
    config = env.config
    signal = "logs" if "logs" in config.signals else config.signals[0]
    table = schemas.load(signal)
    left_out = next(c.name for c in table.columns if not c.required and c.name != RUN_ID_COLUMN)
    run_id = new_run_id()
    records = make_records(signal, run_id, 3)
    records[0].pop(left_out, None)
    records[1][UNKNOWN_KEY] = "probe"
    records[2]["timestamp"] = "2026-01-10T12:00:00Z"
    pairs = zip(CASES, records, strict=True)
    sent = [(case, r) for case, r in pairs if env.refusals or case not in REFUSED_CASES]
    records = [r for _, r in sent]
    seen = RecordsSeen(signal, {case: str(r[RUN_ID_COLUMN]) for case, r in sent}, left_out)
    bucket, prefix = env.outputs["ErrorBucketName"], config.error_prefix(signal)
    before = list_error_keys(env.clients.s3, bucket, prefix)
    env.clients.firehose.put_record_batch(
        DeliveryStreamName=config.stream_name(signal), Records=[{"Data": encode(r)} for r in records]
    )

    def read() -> RecordsSeen:
        try:
            tbl = static_table(env.clients, config, env.account_id, signal)
            for row in tbl.scan(row_filter=f"{RUN_ID_COLUMN} LIKE '{run_id}:%'").to_arrow().to_pylist():
                seen.rows[str(row[RUN_ID_COLUMN])] = row
            for key in sorted(list_error_keys(env.clients.s3, bucket, prefix) - before):
                for code, raw in error_records(env.clients.s3, bucket, key):
                    try:
                        seen.refused[str(json.loads(raw)[RUN_ID_COLUMN])] = code
                    except (ValueError, KeyError, TypeError):
                        continue
        except Exception as exc:  # cannot read the warehouse or the bucket: say so, decide nothing
            seen.problem = f"{type(exc).__name__}: {exc}"
        return seen

    deadline = time.monotonic() + config.firehose.buffering_interval_seconds + env.margin
    poll_until(
        read,
        lambda s: bool(s.problem) or all(k in s.rows or k in s.refused for k in s.keys.values()),
        backoff(deadline, first=0.5, cap=10.0),
    )
    return seen


def _fate(seen: RecordsSeen, case: str) -> tuple[str, str]:
    key = seen.keys[case]
    if key in seen.rows:
        return "landed", ""
    if key in seen.refused:
        return "refused", seen.refused[key]
    return "unknown", seen.problem or "neither a row nor an error record within the deadline"


def absent_optional_column(env: ProbeEnv) -> Finding:
    seen = env.records()
    fate, code = _fate(seen, "absent")
    if fate == "landed":
        value = seen.rows[seen.keys["absent"]].get(seen.left_out)
        if value is None:
            return confirmed(f"a {seen.signal} record without {seen.left_out} landed with it null")
        return differs(f"a {seen.signal} record without {seen.left_out} landed with {value!r}")
    if fate == "refused":
        return differs(f"a {seen.signal} record without optional {seen.left_out} was refused: {code}")
    return undetermined(code)


def not_sent(env: ProbeEnv) -> Finding:
    """Why a refused-record probe did not run: what its alarm would have done, and how to run it."""
    signal = "logs" if "logs" in env.config.signals else env.config.signals[0]
    alarm = env.config.alarm_name(signal, "records-to-error-bucket")
    return undetermined(
        f"not probed: its record would go to the error bucket and put alarm {alarm} in ALARM for a minute "
        f"(`doit status` unhealthy; it notifies {notify(env.config)}); run "
        f"`pytest verify/ --env {env.config.env} --probe-refusals` to probe it"
    )


def unknown_record_key(env: ProbeEnv) -> Finding:
    if not env.refusals:
        return not_sent(env)
    seen = env.records()
    fate, code = _fate(seen, "unknown")
    if fate == "refused":
        return confirmed(f"a record with key {UNKNOWN_KEY} went to the error bucket: errorCode {code}")
    if fate == "landed":
        return differs(f"a record with key {UNKNOWN_KEY} (no column) landed: Firehose ignores unknown keys")
    return undetermined(code)


def string_timestamp(env: ProbeEnv) -> Finding:
    if not env.refusals:
        return not_sent(env)
    seen = env.records()
    fate, code = _fate(seen, "timestamp")
    if fate == "refused":
        return confirmed(f"an ISO-8601 timestamp went to the error bucket: errorCode {code}")
    if fate == "landed":
        return differs("a record with an ISO-8601 string timestamp landed: Firehose converts strings")
    return undetermined(code)


def trust_external_id(env: ProbeEnv) -> Finding:
    role = env.outputs.get("FirehoseRoleArn", "").rsplit("/", 1)[-1]
    doc = env.clients.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    conditions = [st.get("Condition") or {} for st in doc.get("Statement", [])]
    wanted = {"sts:ExternalId": env.account_id}
    if not any((c.get("StringEquals") or {}) == wanted for c in conditions):
        return undetermined(f"role {role}'s trust policy has no sts:ExternalId = account condition: {doc}")
    fate, code = _fate(env.records(), "absent")
    if fate == "landed":
        return confirmed(f"Firehose delivered through role {role} under sts:ExternalId = {env.account_id}")
    if fate == "refused" and "role" in code.lower():
        return differs(f"delivery through role {role} failed: {code} (the sts:ExternalId condition?)")
    return undetermined(f"no delivery to judge by: {code or fate}")


# -- streams, Lake Formation, CloudFormation: reads ---------------------------------------------------------
def append_only_described(env: ProbeEnv) -> Finding:
    values = {}
    for signal in env.config.signals:
        name = env.config.stream_name(signal)
        desc = env.clients.firehose.describe_delivery_stream(DeliveryStreamName=name)
        dest = desc["DeliveryStreamDescription"]["Destinations"][0]
        values[name] = (dest.get("IcebergDestinationDescription") or {}).get("AppendOnly")
    missing = [n for n, v in values.items() if v is None]
    if missing:
        return differs(f"DescribeDeliveryStream leaves AppendOnly out for {', '.join(missing)}")
    return confirmed(f"DescribeDeliveryStream returns AppendOnly: {values}")


def lf_privileged_access_described(env: ProbeEnv) -> Finding:
    arn = expect.lf_resource_arn(env.config, env.account_id)
    info = env.clients.lakeformation.describe_resource(ResourceArn=arn)["ResourceInfo"]
    if "WithPrivilegedAccess" not in info:
        return differs(f"DescribeResource of {arn} has no WithPrivilegedAccess field: {sorted(info)}")
    return confirmed(f"DescribeResource of {arn} returns WithPrivilegedAccess={info['WithPrivilegedAccess']}")


def lf_listing_includes_child_catalog_grants(env: ProbeEnv) -> Finding:
    role = env.outputs.get("FirehoseRoleArn", "")
    catalog = expect.bucket_catalog_id(env.config, env.account_id)
    found: set[str] = set()
    kwargs: dict[str, Any] = {"Principal": {"DataLakePrincipalIdentifier": role}}
    while True:
        page = env.clients.lakeformation.list_permissions(**kwargs)
        for grant in page.get("PrincipalResourcePermissions", []):
            table = (grant.get("Resource") or {}).get("Table") or {}
            if table.get("CatalogId") == catalog:
                found.add(str(table.get("Name")))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    wanted = set(env.config.signals)
    if wanted <= found:
        return confirmed(f"ListPermissions without a resource lists the grants in catalog {catalog}")
    return differs(f"ListPermissions without a resource lists {sorted(found)} of {sorted(wanted)}: {catalog}")


def stack_events_page_size(env: ProbeEnv) -> Finding:
    page = env.clients.cloudformation.describe_stack_events(StackName=env.config.stack_name)
    size = len(page.get("StackEvents", []))
    if not page.get("NextToken"):
        return undetermined(f"the stack has {size} events, one page: the page size does not show")
    if size == 100:
        return confirmed("DescribeStackEvents pages hold 100 events")
    return differs(f"a full DescribeStackEvents page held {size} events, not 100")


def zip_checksum_returned(env: ProbeEnv) -> Finding:
    if not env.config.ingest.function.enabled:
        return undetermined("ingest.enabled is false: no ingest zip to read")
    bucket = env.config.artifacts_bucket_name(env.account_id)
    listing = env.clients.s3.list_objects_v2(Bucket=bucket, Prefix=f"ingest/{env.config.env}/", MaxKeys=1)
    keys = [o["Key"] for o in listing.get("Contents", [])]
    if not keys:
        return undetermined(f"no ingest zip under s3://{bucket}/ingest/{env.config.env}/")
    head = env.clients.s3.head_object(Bucket=bucket, Key=keys[0], ChecksumMode="ENABLED")
    if head.get("ChecksumSHA256"):
        return confirmed(f"HeadObject with ChecksumMode ENABLED returns ChecksumSHA256 for {keys[0]}")
    return differs(f"HeadObject with ChecksumMode ENABLED returns no ChecksumSHA256 for {keys[0]}")


# -- S3 Tables: a tag key with `:` (set, then removed) -------------------------------------------------------
def s3tables_tag_colon(env: ProbeEnv) -> Finding:
    arn = expect.table_bucket_arn(env.config, env.account_id)
    key = "otlp2pipeline-probe:colon"
    try:
        env.clients.s3tables.tag_resource(resourceArn=arn, tags={key: "probe"})
    except ClientError as exc:
        if error_code(exc) in ("AccessDeniedException", "ForbiddenException"):
            return undetermined(f"may not tag {arn}: {error_code(exc)}")
        return confirmed(f"S3 Tables refuses a tag key with ':' ({error_code(exc)}), as its CFN schema says")
    env.clients.s3tables.untag_resource(resourceArn=arn, tagKeys=[key])
    return differs("S3 Tables accepts a tag key with ':' (the tag was removed again)")


# -- Lambda: a temporary function (deleted again), and the env's Function URL --------------------------------
HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "probe"}\n'


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


def _ingest_role(env: ProbeEnv) -> str | None:
    name = env.outputs.get("IngestFunctionName")
    if not name:
        return None
    return str(env.clients.client("lambda").get_function_configuration(FunctionName=name)["Role"])


def _try_create(env: ProbeEnv, runtime: str) -> tuple[str | None, str]:
    """(error code or None, the function name); a function that was created is deleted again."""
    lam = env.clients.client("lambda")
    name = f"{env.config.stack_name}-probe-{uuid.uuid4().hex[:8]}"
    try:
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Handler="app.handler",
            Role=str(_ingest_role(env)),
            Code={"ZipFile": _zip()},
        )
    except ClientError as exc:
        return error_code(exc), name
    lam.delete_function(FunctionName=name)
    return None, name


def blocked_runtime(env: ProbeEnv) -> Finding:
    if _ingest_role(env) is None:
        return undetermined("ingest.enabled is false: no function role to create a probe function with")
    code, _ = _try_create(env, "python3.7")
    if code == "InvalidParameterValueException":
        return confirmed("CreateFunction with python3.7 is refused: InvalidParameterValueException")
    if code is None:
        return differs("CreateFunction with python3.7 succeeded (the function was deleted again)")
    return differs(f"CreateFunction with python3.7 is refused with {code}")


def unreleased_runtime(env: ProbeEnv) -> Finding:
    if _ingest_role(env) is None:
        return undetermined("ingest.enabled is false: no function role to create a probe function with")
    code, _ = _try_create(env, "python3.15")
    if code == "InvalidParameterValueException":
        return confirmed("CreateFunction with python3.15 (in botocore's enum) is refused")
    if code is None:
        return differs("python3.15 is released: CreateFunction succeeded (deleted again); update cfn-lint")
    return differs(f"CreateFunction with python3.15 is refused with {code}")


def function_runtime_active(env: ProbeEnv) -> Finding:
    name = env.outputs.get("IngestFunctionName")
    if not name:
        return undetermined("ingest.enabled is false: no function")
    fn = env.clients.client("lambda").get_function_configuration(FunctionName=name)
    if fn.get("State", "Active") == "Active":
        return confirmed(f"function {name} runs {fn['Runtime']} ({fn.get('State', 'Active')})")
    return differs(f"function {name} on {fn['Runtime']} is {fn.get('State')}: {fn.get('StateReason')}")


def url_event_limit(env: ProbeEnv) -> Finding:
    from verify.otlp_post import post

    conn = env.connection()
    if conn is None:
        return undetermined("ingest.enabled is false: no Function URL")
    sign = (env.clients.session.get_credentials(), env.config.region) if conn.auth == "iam" else None
    body = b"\x0a" * OVERSIZED_BODY
    answer = post(conn.endpoint, "v1/logs", body, token=conn.token, sign=sign, timeout=300)
    if answer.status == 413:
        return confirmed(f"a {OVERSIZED_BODY:,}-byte protobuf body (event > {SYNC_PAYLOAD_LIMIT:,}) gets 413")
    return differs(f"a {OVERSIZED_BODY:,}-byte protobuf body got {answer.status}: {answer.body[:200]!r}")


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_status(url: str, want: int, seconds: float) -> int:
    delays = backoff(time.monotonic() + seconds, first=0.25, cap=5.0)
    status, _ = poll_until(lambda: _status(url), lambda s: s == want, delays)
    return int(status)


def url_needs_both_permissions(env: ProbeEnv) -> Finding:
    if _ingest_role(env) is None:
        return undetermined("ingest.enabled is false: no function role to create a probe function with")
    lam = env.clients.client("lambda")
    name = f"{env.config.stack_name}-probe-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=str(_ingest_role(env)),
        Code={"ZipFile": _zip()},
    )  # fmt: skip
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
        lam.add_permission(
            FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
            FunctionUrlAuthType="NONE",
        )  # fmt: skip
        if _wait_status(url, 200, 20 if not env.config.is_local else 0.5) == 200:
            return differs("a NONE-auth URL answered 200 with lambda:InvokeFunctionUrl alone")
        lam.add_permission(
            FunctionName=name, StatementId="invoke", Action="lambda:InvokeFunction", Principal="*",
            InvokedViaFunctionUrl=True,
        )  # fmt: skip
        status = _wait_status(url, 200, 90)
        if status == 200:
            return confirmed("a NONE-auth URL answers 403 with InvokeFunctionUrl alone, 200 with both")
        return undetermined(f"the probe URL answered {status}, not 200, with both permissions")
    finally:
        lam.delete_function(FunctionName=name)
