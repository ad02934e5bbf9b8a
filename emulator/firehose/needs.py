"""What a Firehose delivery needs of its roles: the calls it makes, and whether Firehose may assume them.

The policies themselves are evaluated by emulator/iam/policy.py.

AWS evaluates the role Firehose assumes for every call Firehose makes on the stream's behalf; a missing
permission fails the delivery (and is retried for ``RetryOptions``, like any failure of the destination).
This module lists the actions a delivery into an S3 Tables Iceberg table needs, with the resources they are
authorized on, and asks the role's policies about each one (``policy.first_denied``, moto's evaluation): an
explicit Deny in any policy wins, otherwise some policy must Allow it (IAM's implicit deny). Inline and
attached managed policies of the role count; permissions boundaries, SCPs and resource policies are not
modelled.

What a delivery needs (the emulator's reading of the Firehose and Glue docs, see the README):

- ``glue:GetTable`` and ``glue:UpdateTable`` on every ARN Glue authorizes a table call against: the root
  catalog, ``catalog/s3tablescatalog``, ``catalog/s3tablescatalog/BUCKET``, the database and the table;
- the S3 Tables data actions on the table: ``s3tables:GetTableMetadataLocation``,
  ``s3tables:UpdateTableMetadataLocation``, ``s3tables:GetTableData``, ``s3tables:PutTableData``;
- ``lakeformation:GetDataAccess`` (which only takes ``*``);
- ``s3:PutObject`` on the error prefix of the error bucket (with the S3 configuration's role);
- ``logs:PutLogEvents`` on the stream's log stream, when CloudWatch logging is enabled.

The role itself is looked up in moto's IAM (``policy.find_role``); Firehose can assume it only when its
trust policy lets ``firehose.amazonaws.com`` assume it, its conditions holding for the stream
(``firehose_can_assume``). A denied need fails the delivery with its service's AccessDenied code
(``need_code``, errors.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from emulator.firehose.data import DeliveryStream, error_bucket, error_prefix
from emulator.firehose.errors import ERR_ACCESS, ERR_GLUE, ERR_LOGS, ERR_S3
from emulator.iam.policy import Need, find_role, partition_of, trusts_service

GLUE_TABLE_ACTIONS = ("glue:GetTable", "glue:UpdateTable")
S3TABLES_DATA_ACTIONS = (
    "s3tables:GetTableMetadataLocation",
    "s3tables:UpdateTableMetadataLocation",
    "s3tables:GetTableData",
    "s3tables:PutTableData",
)


def need_code(need: Need) -> str:
    """The error code a delivery failing on ``need`` writes: the service's own AccessDenied."""
    service = need.action.split(":", 1)[0]
    return {"glue": ERR_GLUE, "s3": ERR_S3, "logs": ERR_LOGS}.get(service, ERR_ACCESS)


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


def log_need(stream: DeliveryStream, config: dict[str, Any]) -> Need | None:
    """``logs:PutLogEvents`` on the stream's log stream, when CloudWatch logging is enabled."""
    opts = config.get("CloudWatchLoggingOptions") or {}
    group, log_stream = opts.get("LogGroupName"), opts.get("LogStreamName")
    if not opts.get("Enabled") or not group or not log_stream:
        return None
    return log_stream_need(stream.account_id, stream.region, str(group), str(log_stream))


class RoleNeed(NamedTuple):
    """A role (None: not found) and what it needs for one write."""

    role_arn: str
    role: Any | None
    need: Need | None


def error_object_access(stream: DeliveryStream, config: dict[str, Any]) -> RoleNeed:
    """The role that writes error objects (the S3 configuration's, else the stream's) and its
    ``s3:PutObject`` need on the error prefix; no need without an error bucket."""
    bucket = error_bucket(config)
    if not bucket:
        return RoleNeed("", None, None)
    s3 = config.get("S3DestinationDescription") or {}
    role_arn = str(s3.get("RoleARN") or config.get("RoleARN") or "")
    key = error_prefix(config, datetime.now(UTC)) + stream.name
    return RoleNeed(
        role_arn, find_role(stream.account_id, role_arn), error_object_need(stream.region, bucket, key)
    )
