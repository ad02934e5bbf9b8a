"""Lake Formation resources, settings and permissions as AWS behaves (moto's version is too loose).

Owned operations: Register/Deregister/Describe/List/UpdateResource (``WithFederation`` kept, a second
register is ``AlreadyExistsException``), Get/PutDataLakeSettings (PUT replaces the whole object), and
Grant/Revoke/BatchGrant/BatchRevoke/ListPermissions. Every IAM principal of a grant or of the admin lists
must name an existing IAM user or role, path included (emulator/admin/identity.py); at most 30 data lake
admins (the lakeformation model's ``DataLakePrincipalList`` max). Catalog ids of the form
``ACCOUNT:s3tablescatalog/BUCKET`` are accepted inside ``Resource``; as the top-level ``CatalogId`` they are
rejected like AWS does ("Catalog id must be a valid AWS account id").

In-process read API for other emulator parts (Firehose delivery)::

    has_permission(account_id, region, principal_arn, resource, permission) -> bool

``resource`` as in the API, e.g. ``{"Table": {"CatalogId": "ACCOUNT:s3tablescatalog/BUCKET",
"DatabaseName": ns, "Name": t}}``; ``ALL`` implies every permission; a ``TableWildcard`` grant covers
every table of its database.
"""

from __future__ import annotations

import copy
import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, json_response, register
from emulator.core.state import RegionalState
from emulator.lakeformation.exceptions import (
    AlreadyExistsException,
    EntityNotFoundException,
    InvalidInputException,
)
from emulator.lakeformation.permissions import (
    ACCOUNT_RE,
    TYPE_OF,
    check_exists,
    covers,
    normalize_resource,
    permission_set,
    principal_id,
)

MAX_ADMINS = 30  # DataLakePrincipalList max (lakeformation model)


def default_settings() -> dict[str, Any]:
    everyone = [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    return {
        "DataLakeAdmins": [],
        "ReadOnlyAdmins": [],
        "CreateDatabaseDefaultPermissions": copy.deepcopy(everyone),
        "CreateTableDefaultPermissions": copy.deepcopy(everyone),
        "Parameters": {"CROSS_ACCOUNT_VERSION": "1"},
        "TrustedResourceOwners": [],
        "AllowExternalDataFiltering": False,
        "AllowFullTableExternalDataAccess": False,
        "ExternalDataFilteringAllowList": [],
        "AuthorizedSessionTagValueList": [],
    }


@dataclass
class Grant:
    principal: str
    resource: dict[str, Any]
    permissions: set[str] = field(default_factory=set)
    grantable: set[str] = field(default_factory=set)
    updated: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))


@dataclass
class _State:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=default_settings)
    grants: list[Grant] = field(default_factory=list)


_lock = threading.RLock()
_state = RegionalState(_State, _lock)


def _check_top_level_catalog_id(req: OverrideRequest) -> None:
    catalog_id = req.body.get("CatalogId")
    if catalog_id is not None and not ACCOUNT_RE.match(str(catalog_id)):
        raise InvalidInputException("Catalog id must be a valid AWS account id")


# -- resources -------------------------------------------------------------------------------------


@register("lakeformation", "RegisterResource")
def register_resource(req: OverrideRequest) -> OverrideResponse:
    arn = req.body.get("ResourceArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidInputException(f"Invalid ResourceArn: {arn}")
    use_slr = bool(req.body.get("UseServiceLinkedRole"))
    role = req.body.get("RoleArn")
    if not use_slr and not role:
        raise InvalidInputException("RoleArn is required when UseServiceLinkedRole is not true")
    if use_slr and not role:
        from moto.utilities.utils import get_partition

        role = (
            f"arn:{get_partition(req.region)}:iam::{req.account_id}:role/aws-service-role/"
            "lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
        )
    with _lock:
        st = _state(req.account_id, req.region)
        if arn in st.resources:
            raise AlreadyExistsException("Resource is already registered")
        st.resources[arn] = {
            "ResourceArn": arn,
            "RoleArn": role,
            "LastModified": datetime.datetime.now(datetime.UTC),
            "WithFederation": bool(req.body.get("WithFederation", False)),
            "HybridAccessEnabled": bool(req.body.get("HybridAccessEnabled", False)),
            "WithPrivilegedAccess": bool(req.body.get("WithPrivilegedAccess", False)),
            "VerificationStatus": "VERIFIED",
            "ExpectedResourceOwnerAccount": req.body.get("ExpectedResourceOwnerAccount") or req.account_id,
        }
    return json_response({})


def _registered(req: OverrideRequest) -> dict[str, Any]:
    arn = req.body.get("ResourceArn")
    st = _state(req.account_id, req.region)
    if not isinstance(arn, str) or arn not in st.resources:
        raise EntityNotFoundException("Entity not found")
    return st.resources[arn]


@register("lakeformation", "DescribeResource")
def describe_resource(req: OverrideRequest) -> OverrideResponse:
    with _lock:
        return json_response({"ResourceInfo": copy.deepcopy(_registered(req))})


@register("lakeformation", "UpdateResource")
def update_resource(req: OverrideRequest) -> OverrideResponse:
    with _lock:
        info = _registered(req)
        if req.body.get("RoleArn"):
            info["RoleArn"] = req.body["RoleArn"]
        for key in ("WithFederation", "HybridAccessEnabled"):
            if key in req.body:
                info[key] = bool(req.body[key])
        info["LastModified"] = datetime.datetime.now(datetime.UTC)
    return json_response({})


@register("lakeformation", "DeregisterResource")
def deregister_resource(req: OverrideRequest) -> OverrideResponse:
    with _lock:
        info = _registered(req)
        _state(req.account_id, req.region).resources.pop(info["ResourceArn"], None)
    return json_response({})


@register("lakeformation", "ListResources")
def list_resources(req: OverrideRequest) -> OverrideResponse:
    with _lock:
        infos = [copy.deepcopy(v) for _, v in sorted(_state(req.account_id, req.region).resources.items())]
    for cond in req.body.get("FilterConditionList") or []:
        field_name = {"RESOURCE_ARN": "ResourceArn", "ROLE_ARN": "RoleArn"}.get(cond.get("Field", ""))
        values = cond.get("StringValueList") or []
        if field_name is None:
            continue
        op = cond.get("ComparisonOperator", "EQ")
        if op == "EQ":
            infos = [i for i in infos if i.get(field_name) in values]
        elif op == "CONTAINS":
            infos = [i for i in infos if any(v in str(i.get(field_name, "")) for v in values)]
        elif op == "BEGINS_WITH":
            infos = [i for i in infos if any(str(i.get(field_name, "")).startswith(v) for v in values)]
    return json_response({"ResourceInfoList": infos})


# -- settings --------------------------------------------------------------------------------------


@register("lakeformation", "GetDataLakeSettings")
def get_settings(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    with _lock:
        return json_response({"DataLakeSettings": copy.deepcopy(_state(req.account_id, req.region).settings)})


@register("lakeformation", "PutDataLakeSettings")
def put_settings(req: OverrideRequest) -> OverrideResponse:
    """Replace semantics, as AWS: whatever is not in the request is gone (admins included)."""
    _check_top_level_catalog_id(req)
    settings = req.body.get("DataLakeSettings")
    if not isinstance(settings, dict):
        raise InvalidInputException("DataLakeSettings is required")
    new = copy.deepcopy(settings)
    _check_admins(new)
    for key in (
        "DataLakeAdmins",
        "ReadOnlyAdmins",
        "CreateDatabaseDefaultPermissions",
        "CreateTableDefaultPermissions",
        "TrustedResourceOwners",
        "ExternalDataFilteringAllowList",
        "AuthorizedSessionTagValueList",
    ):
        new.setdefault(key, [])
    new.setdefault("AllowExternalDataFiltering", False)
    new.setdefault("AllowFullTableExternalDataAccess", False)
    with _lock:
        _state(req.account_id, req.region).settings = new
    return json_response({})


def _check_admins(settings: dict[str, Any]) -> None:
    """The model's list limit, then Lake Formation's principal rule, for both admin lists."""
    from emulator.admin.identity import check_principal

    for key, member in (("DataLakeAdmins", "dataLakeAdmins"), ("ReadOnlyAdmins", "readOnlyAdmins")):
        admins = settings.get(key) or []
        if not isinstance(admins, list):
            raise InvalidInputException(f"{key} must be a list")
        if len(admins) > MAX_ADMINS:
            raise InvalidInputException(
                f"1 validation error detected: Value at 'dataLakeSettings.{member}' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_ADMINS}",
            )
        for admin in admins:
            check_principal(principal_id(admin))


# -- permissions -----------------------------------------------------------------------------------


def _grant(account_id: str, region: str, entry: dict[str, Any]) -> None:
    from emulator.admin.identity import check_principal

    principal = principal_id(entry.get("Principal"))
    check_principal(principal)
    resource = normalize_resource(entry.get("Resource"), account_id)
    perms = permission_set(entry.get("Permissions"), "Permissions")
    grantable = permission_set(entry.get("PermissionsWithGrantOption"), "PermissionsWithGrantOption")
    if not perms:
        raise InvalidInputException("Permissions must not be empty")
    check_exists(resource, account_id, region)
    with _lock:
        st = _state(account_id, region)
        for g in st.grants:
            if g.principal == principal and g.resource == resource:
                g.permissions |= perms
                g.grantable |= grantable
                g.updated = datetime.datetime.now(datetime.UTC)
                return
        st.grants.append(Grant(principal, resource, set(perms), set(grantable)))


def _revoke(account_id: str, region: str, entry: dict[str, Any]) -> None:
    principal = principal_id(entry.get("Principal"))
    resource = normalize_resource(entry.get("Resource"), account_id)
    perms = permission_set(entry.get("Permissions"), "Permissions")
    grantable = permission_set(entry.get("PermissionsWithGrantOption"), "PermissionsWithGrantOption")
    with _lock:
        st = _state(account_id, region)
        for g in st.grants:
            if (
                g.principal == principal
                and g.resource == resource
                and (perms & g.permissions or grantable & g.grantable)
            ):
                g.permissions -= perms
                g.grantable -= grantable | perms
                if not g.permissions:
                    st.grants.remove(g)
                return
    raise InvalidInputException("No permissions revoked. Grantee has no permissions on resource")


@register("lakeformation", "GrantPermissions")
def grant_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    _grant(req.account_id, req.region, req.body)
    return json_response({})


@register("lakeformation", "RevokePermissions")
def revoke_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    _revoke(req.account_id, req.region, req.body)
    return json_response({})


def _batch(req: OverrideRequest, fn: Any) -> OverrideResponse:
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


@register("lakeformation", "BatchGrantPermissions")
def batch_grant(req: OverrideRequest) -> OverrideResponse:
    return _batch(req, _grant)


@register("lakeformation", "BatchRevokePermissions")
def batch_revoke(req: OverrideRequest) -> OverrideResponse:
    return _batch(req, _revoke)


@register("lakeformation", "ListPermissions")
def list_permissions(req: OverrideRequest) -> OverrideResponse:
    _check_top_level_catalog_id(req)
    # A Principal filter alone works here, as issue 3 asks. moto refuses it ("Resource is mandatory if
    # Principal is set in the input"), perhaps as AWS does: the tool never sends one, so either way is safe.
    principal = req.body.get("Principal")
    want_principal = principal_id(principal) if principal else None
    want_resource = (
        normalize_resource(req.body["Resource"], req.account_id) if req.body.get("Resource") else None
    )
    rtype = req.body.get("ResourceType")
    if rtype is not None and rtype not in TYPE_OF:
        raise InvalidInputException(f"Invalid ResourceType: {rtype}")
    out = []
    with _lock:
        for g in _state(req.account_id, req.region).grants:
            if want_principal is not None and g.principal != want_principal:
                continue
            if want_resource is not None and not covers(want_resource, g.resource):
                continue
            if rtype is not None and TYPE_OF[rtype] not in g.resource:
                continue
            out.append(
                {
                    "Principal": {"DataLakePrincipalIdentifier": g.principal},
                    "Resource": copy.deepcopy(g.resource),
                    "Permissions": sorted(g.permissions),
                    "PermissionsWithGrantOption": sorted(g.grantable),
                    "LastUpdated": g.updated,
                }
            )
    return json_response({"PrincipalResourcePermissions": out})


def permissions_on(account_id: str, region: str, principal_arn: str, resource: dict[str, Any]) -> set[str]:
    """Every permission ``principal_arn`` holds on ``resource`` (a TableWildcard grant counts for a table)."""
    try:
        want = normalize_resource(resource, account_id)
    except AwsError:
        return set()
    out: set[str] = set()
    with _lock:
        for g in _state(account_id, region).grants:
            if g.principal == principal_arn and covers(want, g.resource):
                out |= g.permissions
    return out


def is_admin(account_id: str, region: str, principal_arn: str) -> bool:
    """A data lake admin or read-only admin: Lake Formation's implicit DESCRIBE on every resource."""
    with _lock:
        settings = _state(account_id, region).settings
        admins = [*(settings.get("DataLakeAdmins") or []), *(settings.get("ReadOnlyAdmins") or [])]
    return any(a.get("DataLakePrincipalIdentifier") == principal_arn for a in admins if isinstance(a, dict))


def has_permission(
    account_id: str, region: str, principal_arn: str, resource: dict[str, Any], permission: str
) -> bool:
    """True when ``principal_arn`` holds ``permission`` (or ALL) on ``resource``."""
    try:
        want = normalize_resource(resource, account_id)
    except AwsError:
        return False
    with _lock:
        for g in _state(account_id, region).grants:
            if g.principal != principal_arn:
                continue
            if not ({permission, "ALL"} & g.permissions):
                continue
            if covers(want, g.resource):
                return True
    return False
