"""`doit doctor`'s checks of retention (a table has a window): the function, its role, its schedule.

The function's role policies are read (inline and attached, read-only IAM calls) and judged with moto's IAM
policy evaluation, conditions included (`cloudwatch:namespace`), for every call a run makes: the table
bucket's GetConfig, and on each table with a window the reads and the delete commit through the S3 Tables
Iceberg REST endpoint, and PutMetricData in its namespace. The schedule must exist, be ENABLED, target the
function, and its role must be allowed to invoke it. The function's environment must carry the windows of
the config. Every failure's fix is `doit deploy`: it restores the role's policy (deploy:retention_role), the
stack's resources, and the schedule as the template declares it when it was disabled, deleted or retargeted
outside CloudFormation (deploy:retention_schedule).
"""

from __future__ import annotations

from collections.abc import Iterator

from botocore.exceptions import ClientError

from retention.lambda_handler import BUCKET_VAR, NAMESPACE_VAR, WINDOWS_VAR
from retention.metrics import NAMESPACE
from tasks.doctor.ingest import Check, read_facts, role_policies
from tasks.errors import error_code
from tasks.step import Context

ENTRY_RETENTION = "Retention (the stack's retention function, its role and its daily schedule)"
TABLE_ACTIONS = (
    "s3tables:GetTableMetadataLocation",
    "s3tables:GetTableData",
    "s3tables:PutTableData",
    "s3tables:UpdateTableMetadataLocation",
)
INVOKE = "lambda:InvokeFunction"


def allowed(policies: list[str], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM's verdict for one call (explicit Deny wins; no Allow denies), with the request's condition keys."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    verdict = False
    for doc in policies:
        try:
            result = IAMPolicy(doc).is_action_permitted(action, resource, incoming_condition_values=context)
        except (ValueError, TypeError, KeyError, StopIteration):
            continue
        if result == PermissionResult.DENIED:
            return False
        verdict = verdict or result == PermissionResult.PERMITTED
    return verdict


def _table_arn(ctx: Context, bucket: str, table: str) -> str | None:
    try:
        found = ctx.clients.s3tables.get_table(
            tableBucketARN=bucket, namespace=ctx.config.namespace, name=table
        )
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise
    return str(found["tableARN"])


def function_checks(ctx: Context, name: str) -> Iterator[Check]:
    config = ctx.config
    facts = read_facts(ctx, name)
    if facts.missing:
        yield Check(f"retention function {name} exists", False, "GetFunction: ResourceNotFoundException")
        return
    bucket = config.table_bucket_arn(ctx.account_id)
    role = facts.role_arn or "(no role)"
    from tasks.steps.retention import windows_text

    env = facts.environment
    want = {WINDOWS_VAR: windows_text(config), BUCKET_VAR: bucket, NAMESPACE_VAR: config.namespace}
    wrong = [f"{k}={env.get(k)!r} (the config's: {v!r})" for k, v in want.items() if env.get(k) != v]
    yield Check("retention function's environment holds the config's windows", not wrong, "; ".join(wrong))
    yield Check(
        "retention function's role may s3tables:GetTableBucket on the table bucket",
        allowed(facts.policies, "s3tables:GetTableBucket", bucket),
        f"{role} is not allowed s3tables:GetTableBucket on {bucket}",
    )
    for table in config.retention_windows:
        arn = _table_arn(ctx, bucket, table)
        if arn is None:
            continue  # no table yet: the run skips it
        lacking = [a for a in TABLE_ACTIONS if not allowed(facts.policies, a, arn)]
        yield Check(
            f"retention function's role may drop days of table {config.namespace}.{table}",
            not lacking,
            f"{role} is not allowed {', '.join(lacking)} on {arn}",
        )
    yield Check(
        f"retention function's role may cloudwatch:PutMetricData in {NAMESPACE}",
        allowed(facts.policies, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": NAMESPACE}),
        f"{role} is not allowed cloudwatch:PutMetricData in namespace {NAMESPACE}",
    )


def schedule_checks(ctx: Context, function_arn: str | None) -> Iterator[Check]:
    config = ctx.config
    name = config.retention_schedule_name
    try:
        schedule = ctx.clients.client("scheduler").get_schedule(Name=name)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        yield Check(f"schedule {name} exists", False, "GetSchedule: ResourceNotFoundException")
        return
    target = schedule.get("Target") or {}
    yield Check(
        f"schedule {name} is ENABLED",
        schedule.get("State") == "ENABLED",
        f"State={schedule.get('State')}",
    )
    yield Check(
        f"schedule {name} runs the retention function",
        function_arn is not None and target.get("Arn") == function_arn,
        f"its target is {target.get('Arn')}, the function is {function_arn}",
    )
    role_arn = str(target.get("RoleArn", ""))
    policies = role_policies(ctx.clients.iam, role_arn.rsplit("/", 1)[-1]) if role_arn else []
    yield Check(
        f"schedule {name}'s role may {INVOKE} the function",
        function_arn is not None and allowed(policies, INVOKE, function_arn),
        f"{role_arn or '(no role)'} is not allowed {INVOKE} on {function_arn}",
    )


def run_checks(ctx: Context) -> Iterator[Check]:
    """The checks of the env's retention (nothing when no table has a window)."""
    if not ctx.config.retention_enabled:
        return
    name = ctx.facts.stack_outputs.get("RetentionFunctionName")
    if not name:
        yield Check(
            "the stack has a RetentionFunctionName output", False, "no retention function in the stack"
        )
        return
    yield from function_checks(ctx, name)
    function_arn = ctx.config.arn("lambda", f"function:{name}", ctx.account_id)
    yield from schedule_checks(ctx, function_arn)
