"""What AWS checks before a Firehose delivery writes: the role, its IAM policies, the catalog and the
Lake Formation grants."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emulator.core.exceptions import AwsError
from emulator.firehose.data import DeliveryStream
from emulator.firehose.errors import ERR_LF, ERR_NO_CATALOG, ERR_ROLE
from emulator.firehose.needs import (
    denied_message,
    destination_needs,
    error_object_access,
    firehose_can_assume,
    log_need,
    need_code,
)
from emulator.glue import models as glue_catalogs
from emulator.iam.policy import find_role, first_denied
from emulator.lakeformation import models as lakeformation


def check_access(
    stream: DeliveryStream,
    role_arn: str,
    catalog_account: str,
    bucket: str,
    database: str,
    table: str,
    config: dict[str, Any] | None = None,
) -> tuple[str, str] | None:
    """What AWS checks before writing: (error code, message) of the first missing piece, or None.

    In AWS's order: the role can be assumed (its trust policy's conditions included), its IAM policies
    allow every call of the delivery (needs.py, evaluated by emulator/iam/policy.py), the catalog exists, Lake
    Formation grants the table."""
    role = find_role(stream.account_id, role_arn)
    if not firehose_can_assume(role, stream):
        why = (
            "it does not exist"
            if role is None
            else "its trust policy does not let firehose.amazonaws.com assume it for this stream (the "
            f"principal, or a condition on sts:ExternalId={stream.account_id}, aws:SourceAccount or "
            "aws:SourceArn)"
        )
        return (
            ERR_ROLE,
            f"Unable to assume role {role_arn}: {why}. Firehose needs sts:AssumeRole for "
            "principal firehose.amazonaws.com.",
        )
    denied = _iam_denied(stream, role_arn, role, catalog_account, bucket, database, table, config or {})
    if denied is not None:
        return denied
    catalog_id = f"{catalog_account}:s3tablescatalog/{bucket}"
    missing = _catalog_missing(stream.account_id, stream.region, catalog_id)
    if missing is not None:
        return ERR_NO_CATALOG, missing
    if not lf_allows(
        stream.account_id,
        stream.region,
        role_arn,
        {"Database": {"CatalogId": catalog_id, "Name": database}},
        ("DESCRIBE",),
    ):
        return (
            ERR_LF,
            f"Insufficient Glue permissions to access database {database} in catalog {catalog_id}: "
            f"role {role_arn} lacks Lake Formation DESCRIBE on the database.",
        )
    table_res = {"Table": {"CatalogId": catalog_id, "DatabaseName": database, "Name": table}}
    if not lf_allows(stream.account_id, stream.region, role_arn, table_res, ("ALL", "INSERT")):
        return (
            ERR_LF,
            f"Insufficient Lake Formation permissions to write table {database}.{table} in catalog "
            f"{catalog_id}: role {role_arn} lacks Lake Formation ALL (or INSERT) on the table.",
        )
    return None


def _iam_denied(
    stream: DeliveryStream,
    role_arn: str,
    role: Any,
    catalog_account: str,
    bucket: str,
    database: str,
    table: str,
    config: dict[str, Any],
) -> tuple[str, str] | None:
    """The first call of the delivery the stream role (or the S3 configuration's role) may not make."""
    needs = destination_needs(stream.account_id, stream.region, catalog_account, bucket, database, table)
    logs = log_need(stream, config)
    if logs is not None:
        needs.append(logs)
    denied = first_denied(role, needs)
    if denied is not None:
        return need_code(denied), denied_message(role_arn, denied)
    s3_role_arn, s3_role, s3_need = error_object_access(stream, config)
    if s3_need is not None and s3_role is not None and first_denied(s3_role, [s3_need]):
        return need_code(s3_need), denied_message(s3_role_arn, s3_need)
    return None


def _catalog_missing(account_id: str, region: str, catalog_id: str) -> str | None:
    """Firehose's "Catalog not found": the s3tablescatalog Glue catalog or its table bucket is missing."""
    try:
        glue_catalogs.resolve(account_id, region, catalog_id)
    except AwsError as exc:
        return (
            f"Catalog not found: {catalog_id} ({exc.message}). The federated s3tablescatalog Glue catalog "
            "and the table bucket must exist."
        )
    return None


def lf_allows(
    account_id: str, region: str, principal: str, resource: dict[str, Any], any_of: Iterable[str]
) -> bool:
    """Lake Formation's answer (emulator/lakeformation): any one of ``any_of`` granted on ``resource``."""
    return any(
        bool(lakeformation.has_permission(account_id, region, principal, resource, perm)) for perm in any_of
    )
