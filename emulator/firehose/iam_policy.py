"""The Firehose stream role's IAM policies, evaluated at delivery with moto's own policy evaluation.

AWS evaluates the role Firehose assumes for every call Firehose makes on the stream's behalf; a missing
permission fails the delivery (and is retried for ``RetryOptions``, like any failure of the destination).
This module lists the actions a delivery into an S3 Tables Iceberg table needs, with the resources they are
authorized on, and asks ``moto.iam.access_control.IAMPolicy`` about each one: an explicit Deny in any
policy wins, otherwise some policy must Allow it (IAM's implicit deny). Inline and attached managed
policies of the role count; permissions boundaries, SCPs and resource policies are not modelled.

What a delivery needs (the emulator's reading of the Firehose and Glue docs, see the README):

- ``glue:GetTable`` and ``glue:UpdateTable`` on every ARN Glue authorizes a table call against: the root
  catalog, ``catalog/s3tablescatalog``, ``catalog/s3tablescatalog/BUCKET``, the database and the table;
- the S3 Tables data actions on the table: ``s3tables:GetTableMetadataLocation``,
  ``s3tables:UpdateTableMetadataLocation``, ``s3tables:GetTableData``, ``s3tables:PutTableData``;
- ``lakeformation:GetDataAccess`` (which only takes ``*``);
- ``s3:PutObject`` on the error prefix of the error bucket (with the S3 configuration's role);
- ``logs:PutLogEvents`` on the stream's log stream, when CloudWatch logging is enabled.

The role itself is looked up in moto's IAM (``find_role``); Firehose can assume it only when its trust
policy lets ``firehose.amazonaws.com`` assume it, its conditions holding for the stream
(``firehose_can_assume``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.iam.trust import trusts_service

if TYPE_CHECKING:
    from emulator.firehose.models import DeliveryStream

GLUE_TABLE_ACTIONS = ("glue:GetTable", "glue:UpdateTable")
S3TABLES_DATA_ACTIONS = (
    "s3tables:GetTableMetadataLocation",
    "s3tables:UpdateTableMetadataLocation",
    "s3tables:GetTableData",
    "s3tables:PutTableData",
)
ERR_GLUE = "Glue.AccessDenied"
ERR_ACCESS = "Iceberg.AccessDenied"
ERR_S3 = "S3.AccessDenied"
ERR_LOGS = "CloudWatchLogs.AccessDenied"


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys the request carries (cloudwatch:namespace)

    @property
    def code(self) -> str:
        service = self.action.split(":", 1)[0]
        return {"glue": ERR_GLUE, "s3": ERR_S3, "logs": ERR_LOGS}.get(service, ERR_ACCESS)


def partition_of(region: str) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(region))


def table_arn(account_id: str, region: str, bucket: str, database: str, table: str) -> str:
    """The S3 Tables table ARN as the emulator's S3 Tables (and so the stack's TableARN) gives it."""
    bucket_arn = f"arn:{partition_of(region)}:s3tables:{region}:{account_id}:bucket/{bucket}"
    try:
        from moto.s3tables.models import s3tables_backends

        return str(s3tables_backends[account_id][region].get_table(bucket_arn, database, table).arn)
    except Exception:
        return f"{bucket_arn}/table/{table}"


def destination_needs(
    account_id: str, region: str, catalog_account: str, bucket: str, database: str, table: str
) -> list[Need]:
    """What writing one batch into ``database.table`` of the table bucket's child catalog needs."""
    glue = f"arn:{partition_of(region)}:glue:{region}:{catalog_account}"
    glue_arns = (
        f"{glue}:catalog",
        f"{glue}:catalog/s3tablescatalog",
        f"{glue}:catalog/s3tablescatalog/{bucket}",
        f"{glue}:database/s3tablescatalog/{bucket}/{database}",
        f"{glue}:table/s3tablescatalog/{bucket}/{database}/{table}",
    )
    needs = [Need(action, arn) for action in GLUE_TABLE_ACTIONS for arn in glue_arns]
    tarn = table_arn(catalog_account, region, bucket, database, table)
    needs += [Need(action, tarn) for action in S3TABLES_DATA_ACTIONS]
    needs.append(Need("lakeformation:GetDataAccess", "*"))
    return needs


def error_object_need(region: str, bucket: str, key: str) -> Need:
    return Need("s3:PutObject", f"arn:{partition_of(region)}:s3:::{bucket}/{key}")


def log_stream_need(account_id: str, region: str, group: str, stream: str) -> Need:
    arn = f"arn:{partition_of(region)}:logs:{region}:{account_id}:log-group:{group}:log-stream:{stream}"
    return Need("logs:PutLogEvents", arn)


def _policies(role: Any) -> list[Any]:
    """The role's inline policy documents and attached managed policies, as moto's IAMPolicy takes them."""
    out: list[Any] = list(getattr(role, "policies", {}).values())
    out += list(getattr(role, "managed_policies", {}).values())
    return out


def first_denied(role: Any, needs: list[Need]) -> Need | None:
    """The first need the role's policies do not allow (explicit Deny, or no Allow), or None."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    policies = []
    for policy in _policies(role):
        try:
            policies.append(IAMPolicy(policy))
        except (ValueError, TypeError, KeyError, StopIteration):
            continue  # a document moto cannot read allows nothing
    for need in needs:
        allowed = False
        for policy in policies:
            result = policy.is_action_permitted(
                need.action, need.resource, incoming_condition_values=dict(need.context) or None
            )
            if result == PermissionResult.DENIED:
                allowed = False
                break
            allowed = allowed or result == PermissionResult.PERMITTED
        if not allowed:
            return need
    return None


def denied_message(role_arn: str, need: Need) -> str:
    return (
        f"Access denied: role {role_arn} is not authorized to perform {need.action} on resource "
        f"{need.resource}: no IAM policy of the role allows it."
    )


def assume_context(stream: DeliveryStream) -> dict[str, str]:
    """What Firehose's AssumeRole carries for the trust policy's conditions: the account id as the external
    id (the Firehose guide's trust policy), and the confused-deputy keys for the stream."""
    return {
        "sts:ExternalId": stream.account_id,
        "aws:SourceAccount": stream.account_id,
        "aws:SourceArn": stream.arn,
    }


def firehose_can_assume(role: Any, stream: DeliveryStream) -> bool:
    """The role exists and its trust policy lets firehose.amazonaws.com assume it for this stream."""
    return role is not None and trusts_service(
        getattr(role, "assume_role_policy_document", None), "firehose.amazonaws.com", assume_context(stream)
    )


def find_role(account_id: str, role_arn: str) -> Any | None:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account_id]["global"].get_role_by_arn(role_arn)
    except Exception:
        return None


def _log_need(stream: DeliveryStream, config: dict[str, Any]) -> Need | None:
    opts = config.get("CloudWatchLoggingOptions") or {}
    group, log_stream = opts.get("LogGroupName"), opts.get("LogStreamName")
    if not opts.get("Enabled") or not group or not log_stream:
        return None
    return log_stream_need(stream.account_id, stream.region, str(group), str(log_stream))
