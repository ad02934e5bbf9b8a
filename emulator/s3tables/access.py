"""IAM on S3 Tables' read path: the table list, a table, its metadata location.

S3 Tables' API is governed by IAM (identity policies, table bucket and table policies), not by Lake
Formation, also for tables of a bucket integrated with Lake Formation: Lake Formation governs the Glue
Data Catalog and the engines that read through it (Athena's path), and vends credentials there. `doit query`
reads the other way, through S3 Tables: ListTables, then GetTableMetadataLocation per table, then the data
files (``s3tables:GetTableData`` on AWS).

Here, for a request signed with credentials the local AWS issued (an STS AssumeRole session, an IAM user's
access key), the role's or user's policies (inline and attached managed ones, through moto's own
``IAMPolicy``, as the local Firehose evaluates its role) must allow the action on its resource, else
``AccessDeniedException``:

    ListTables                 s3tables:ListTables                 the table bucket's ARN
    GetTable                   s3tables:GetTable                   the table's ARN (.../table/ID)
    GetTableMetadataLocation   s3tables:GetTableMetadataLocation   the table's ARN

The local caller's own credentials (``testing``, and the identity ``POST /_emulator/identity`` set) are
not evaluated: the tool deploys with them. Not evaluated either: table bucket and table policies, group
policies, permissions boundaries, and the data files, which the local AWS serves from disk (``file://``),
so ``s3tables:GetTableData`` is never asked for here.
"""

from __future__ import annotations

from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register

SERVICE = "s3tables"


def _param(req: OverrideRequest, name: str) -> str:
    value = req.body.get(name)
    if value is None:
        value = (req.query.get(name) or [""])[-1]
    return str(value or "")


def _table_arn(req: OverrideRequest) -> str | None:
    """The table's ARN (it ends in the table's id); None when there is no such table (moto says so)."""
    from emulator.s3tables.models import backend

    if _param(req, "tableArn"):
        return _param(req, "tableArn")
    try:
        table = backend(req.account_id, req.region).get_table(
            _param(req, "tableBucketARN"), _param(req, "namespace"), _param(req, "name")
        )
    except Exception:
        return None
    return str(table.arn)


def check(req: OverrideRequest, action: str, resource: str | None) -> None:
    """Refuse ``action`` on ``resource`` unless the issued credentials' IAM policies allow it."""
    from emulator.admin.identity import issued_entity
    from emulator.iam.policy import Need, first_denied

    entity = issued_entity(req)
    if entity is None or resource is None:
        return
    if first_denied(entity, [Need(action, resource)]) is None:
        return
    who = _session_arn(req, entity)
    raise AwsError(
        "AccessDeniedException",
        f"User: {who} is not authorized to perform: {action} on resource: {resource} because no "
        f"identity-based policy allows the {action} action",
        403,
    )


def _session_arn(req: OverrideRequest, entity: Any) -> str:
    from moto.sts.models import sts_backends

    from emulator.admin.identity import request_access_key

    assumed = sts_backends[req.account_id]["global"].get_assumed_role_from_access_key(request_access_key(req))
    return str(assumed.arn) if assumed is not None else str(entity.arn)


@register(SERVICE, "ListTables")
def list_tables(req: OverrideRequest) -> OverrideResponse | None:
    """IAM first; then moto's answer with each summary's ``type`` and ``tableARN`` (models.py)."""
    import json

    from emulator.s3tables.models import complete_summaries

    check(req, "s3tables:ListTables", _param(req, "tableBucketARN"))
    resp = req.forward()
    if resp.status >= 300 or resp.error is not None:
        return resp
    arn = _param(req, "tableBucketARN")
    body = complete_summaries(req.account_id, req.region, arn, json.loads(resp.body))
    resp.body = json.dumps(body).encode()
    resp.headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
    return resp


@register(SERVICE, "GetTable")
def get_table(req: OverrideRequest) -> OverrideResponse | None:
    check(req, "s3tables:GetTable", _table_arn(req))
    return None


@register(SERVICE, "GetTableMetadataLocation")
def get_table_metadata_location(req: OverrideRequest) -> OverrideResponse | None:
    check(req, "s3tables:GetTableMetadataLocation", _table_arn(req))
    return None
