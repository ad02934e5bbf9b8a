"""The IAM policies of a Lambda function's role, evaluated on the calls the function makes.

AWS judges every call a function makes by its execution role's policies. The local AWS evaluates them
(moto's IAM policy evaluation, emulator/iam/policy.py, as for the Firehose role) on the calls the
tool's functions make that their role grants: the S3 Tables Iceberg REST endpoint (emulator/s3tables/rest.py
asks `require` for each call) and CloudWatch PutMetricData (`cloudwatch:namespace` read as a condition key).
A caller is a function's when its access key is one Lambda gave a worker (emulator/lambda_/models.py
`_credentials` registers it). Other callers (the tool itself, tests) are not judged here.

What each REST call needs (the S3 User Guide's mapping of the Iceberg REST operations to S3 Tables actions,
as read for this project; unconfirmed, listed in docs/not-yet-confirmed.md): `GetConfig`:
`s3tables:GetTableBucket` on the bucket; `LoadTable`: `s3tables:GetTableMetadataLocation` and, for the files
a client then reads, `s3tables:GetTableData`, on the table; `UpdateTable`:
`s3tables:UpdateTableMetadataLocation` and, for the files a client wrote first, `s3tables:PutTableData`;
`HeadTable`: `s3tables:GetTable`. The local AWS keeps the tables' files on disk, so the data actions are
judged with the call that names the table, not per file.
"""

from __future__ import annotations

import threading

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register, register_reset
from emulator.iam.policy import Need, find_role, first_denied

_lock = threading.Lock()
_workers: dict[str, tuple[str, str]] = {}  # access key -> (account, role ARN) of a Lambda worker

REST_ACTIONS: dict[str, tuple[str, ...]] = {
    "GetConfig": ("s3tables:GetTableBucket",),
    "LoadTable": ("s3tables:GetTableMetadataLocation", "s3tables:GetTableData"),
    "UpdateTable": ("s3tables:UpdateTableMetadataLocation", "s3tables:PutTableData"),
    "HeadTable": ("s3tables:GetTable",),
}


def register_worker(access_key: str, account_id: str, role_arn: str) -> None:
    """Lambda gave this key to a worker of a function running as `role_arn`."""
    with _lock:
        _workers[access_key] = (account_id, role_arn)


def role_of(access_key: str) -> tuple[str, str] | None:
    with _lock:
        return _workers.get(access_key)


def _session_arn(role_arn: str) -> str:
    account = role_arn.split(":")[4]
    partition = role_arn.split(":")[1]
    name = role_arn.rsplit("/", 1)[-1]
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/function"


def denied(access_key: str, needs: list[Need]) -> str | None:
    """AWS's AccessDenied message when the caller is a function whose role does not allow every need."""
    found = role_of(access_key)
    if found is None:
        return None
    account_id, role_arn = found
    role = find_role(account_id, role_arn)
    missing = needs[0] if role is None else first_denied(role, needs)
    if missing is None:
        return None
    return (
        f"User: {_session_arn(role_arn)} is not authorized to perform: {missing.action} on resource: "
        f"{missing.resource} because no identity-based policy allows the {missing.action} action"
    )


def rest_needs(operation: str, resource: str) -> list[Need]:
    return [Need(action, resource) for action in REST_ACTIONS.get(operation, ())]


def _access_key(req: OverrideRequest) -> str:
    from emulator.core import sigv4

    signed = sigv4.parse({"HTTP_AUTHORIZATION": req.headers.get("authorization", "")})
    return signed.access_key if signed is not None else ""


@register("cloudwatch", "PutMetricData")
def put_metric_data(req: OverrideRequest) -> OverrideResponse | None:
    """A function's PutMetricData needs `cloudwatch:PutMetricData` (resource `*`) for its namespace."""
    namespace = str(req.body.get("Namespace", ""))
    need = Need("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", namespace),))
    message = denied(_access_key(req), [need])
    if message is not None:
        raise AwsError("AccessDenied", message, 403)
    return None


@register_reset
def reset() -> None:
    with _lock:
        _workers.clear()


__all__ = ["REST_ACTIONS", "denied", "register_worker", "rest_needs", "role_of"]
