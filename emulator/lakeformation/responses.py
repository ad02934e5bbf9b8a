"""Lake Formation's wire protocol (JSON 1.1), registered in emulator.core.registry; state in models.py.

A top-level ``CatalogId`` must be an account id, as AWS requires ("Catalog id must be a valid AWS account
id"); ``ACCOUNT:s3tablescatalog/BUCKET`` catalog ids are accepted inside ``Resource`` only. The batch
operations answer each failed entry in ``Failures`` with its error code and message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.lakeformation import models
from emulator.lakeformation.exceptions import InvalidInputException
from emulator.lakeformation.permissions import ACCOUNT_RE

SERVICE = "lakeformation"


def _check_top_level_catalog_id(req: OverrideRequest) -> None:
    catalog_id = req.body.get("CatalogId")
    if catalog_id is not None and not ACCOUNT_RE.match(str(catalog_id)):
        raise InvalidInputException("Catalog id must be a valid AWS account id")


# -- resources -------------------------------------------------------------------------------------
@register(SERVICE, "RegisterResource")
def register_resource(req: OverrideRequest) -> OverrideResponse:
    body = req.body
    models.register_resource(
        req.account_id,
        req.region,
        body.get("ResourceArn"),
        body.get("RoleArn"),
        bool(body.get("UseServiceLinkedRole")),
        body,
    )
    return json_response({})


@register(SERVICE, "DescribeResource")
def describe_resource(req: OverrideRequest) -> OverrideResponse:
    info = models.describe_resource(req.account_id, req.region, req.body.get("ResourceArn"))
    return json_response({"ResourceInfo": info})


@register(SERVICE, "UpdateResource")
def update_resource(req: OverrideRequest) -> OverrideResponse:
    models.update_resource(req.account_id, req.region, req.body.get("ResourceArn"), req.body)
    return json_response({})


@register(SERVICE, "DeregisterResource")
def deregister_resource(req: OverrideRequest) -> OverrideResponse:
    models.deregister_resource(req.account_id, req.region, req.body.get("ResourceArn"))
    return json_response({})


@register(SERVICE, "ListResources")
def list_resources(req: OverrideRequest) -> OverrideResponse:
    conditions = req.body.get("FilterConditionList") or []
    return json_response({"ResourceInfoList": models.list_resources(req.account_id, req.region, conditions)})


# -- settings --------------------------------------------------------------------------------------
@register(SERVICE, "GetDataLakeSettings")
def get_settings(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    return json_response({"DataLakeSettings": models.get_settings(req.account_id, req.region)})


@register(SERVICE, "PutDataLakeSettings")
def put_settings(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    models.put_settings(req.account_id, req.region, req.body.get("DataLakeSettings"))
    return json_response({})


# -- permissions -----------------------------------------------------------------------------------
@register(SERVICE, "GrantPermissions")
def grant_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    models.grant(req.account_id, req.region, req.body)
    return json_response({})


@register(SERVICE, "RevokePermissions")
def revoke_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    models.revoke(req.account_id, req.region, req.body)
    return json_response({})


def _batch(req: OverrideRequest, fn: Callable[[str, str, dict[str, Any]], None]) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    failures = []
    for entry in req.body.get("Entries") or []:
        try:
            fn(req.account_id, req.region, entry)
        except AwsError as exc:
            failures.append(
                {"RequestEntry": entry, "Error": {"ErrorCode": exc.code, "ErrorMessage": exc.message}}
            )
    return json_response({"Failures": failures})


@register(SERVICE, "BatchGrantPermissions")
def batch_grant(req: OverrideRequest) -> OverrideResponse:
    return _batch(req, models.grant)


@register(SERVICE, "BatchRevokePermissions")
def batch_revoke(req: OverrideRequest) -> OverrideResponse:
    return _batch(req, models.revoke)


@register(SERVICE, "ListPermissions")
def list_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    out = models.list_permissions(
        req.account_id,
        req.region,
        req.body.get("Principal"),
        req.body.get("Resource"),
        req.body.get("ResourceType"),
    )
    return json_response({"PrincipalResourcePermissions": out})
