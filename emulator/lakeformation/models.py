"""Lake Formation's state: resources, settings and permissions as AWS behaves (moto's version is too loose).

Handlers: responses.py. Owned operations: Register/Deregister/Describe/List/UpdateResource
(``WithFederation`` kept, a second register is ``AlreadyExistsException``), Get/PutDataLakeSettings (PUT
replaces the whole object), and Grant/Revoke/BatchGrant/BatchRevoke/ListPermissions. Every IAM principal of
a grant or of the admin lists must name an existing IAM user or role, path included
(emulator/admin/identity.py); at most 30 data lake admins (the lakeformation model's
``DataLakePrincipalList`` max). Catalog ids of the form ``ACCOUNT:s3tablescatalog/BUCKET`` are accepted
inside ``Resource``; as the top-level ``CatalogId`` they are rejected like AWS does ("Catalog id must be a
valid AWS account id").

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

from emulator.admin.identity import check_principal
from emulator.core.exceptions import AwsError
from emulator.core.state import RegionalState
from emulator.lakeformation.exceptions import (
    AlreadyExistsException,
    EntityNotFoundException,
    InvalidInputException,
)
from emulator.lakeformation.permissions import (
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


# -- resources -------------------------------------------------------------------------------------
def register_resource(
    account_id: str, region: str, arn: Any, role: Any, use_slr: bool, options: dict[str, Any]
) -> None:
    """RegisterResource; ``options``: the request's WithFederation, HybridAccessEnabled,
    WithPrivilegedAccess and ExpectedResourceOwnerAccount."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidInputException(f"Invalid ResourceArn: {arn}")
    if not use_slr and not role:
        raise InvalidInputException("RoleArn is required when UseServiceLinkedRole is not true")
    if use_slr and not role:
        from moto.utilities.utils import get_partition

        role = (
            f"arn:{get_partition(region)}:iam::{account_id}:role/aws-service-role/"
            "lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
        )
    with _lock:
        st = _state(account_id, region)
        if arn in st.resources:
            raise AlreadyExistsException("Resource is already registered")
        st.resources[arn] = {
            "ResourceArn": arn,
            "RoleArn": role,
            "LastModified": datetime.datetime.now(datetime.UTC),
            "WithFederation": bool(options.get("WithFederation", False)),
            "HybridAccessEnabled": bool(options.get("HybridAccessEnabled", False)),
            "WithPrivilegedAccess": bool(options.get("WithPrivilegedAccess", False)),
            "VerificationStatus": "VERIFIED",
            "ExpectedResourceOwnerAccount": options.get("ExpectedResourceOwnerAccount") or account_id,
        }


def _registered(account_id: str, region: str, arn: Any) -> dict[str, Any]:
    st = _state(account_id, region)
    if not isinstance(arn, str) or arn not in st.resources:
        raise EntityNotFoundException("Entity not found")
    return st.resources[arn]


def describe_resource(account_id: str, region: str, arn: Any) -> dict[str, Any]:
    with _lock:
        return copy.deepcopy(_registered(account_id, region, arn))


def update_resource(account_id: str, region: str, arn: Any, changes: dict[str, Any]) -> None:
    """UpdateResource; ``changes``: the request's RoleArn, WithFederation and HybridAccessEnabled."""
    with _lock:
        info = _registered(account_id, region, arn)
        if changes.get("RoleArn"):
            info["RoleArn"] = changes["RoleArn"]
        for key in ("WithFederation", "HybridAccessEnabled"):
            if key in changes:
                info[key] = bool(changes[key])
        info["LastModified"] = datetime.datetime.now(datetime.UTC)


def deregister_resource(account_id: str, region: str, arn: Any) -> None:
    with _lock:
        info = _registered(account_id, region, arn)
        _state(account_id, region).resources.pop(info["ResourceArn"], None)


def list_resources(account_id: str, region: str, conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ListResources, filtered by ``FilterConditionList``."""
    with _lock:
        infos = [copy.deepcopy(v) for _, v in sorted(_state(account_id, region).resources.items())]
    for cond in conditions:
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
    return infos


# -- settings --------------------------------------------------------------------------------------
def get_settings(account_id: str, region: str) -> dict[str, Any]:
    with _lock:
        return copy.deepcopy(_state(account_id, region).settings)


def put_settings(account_id: str, region: str, settings: Any) -> None:
    """Replace semantics, as AWS: whatever is not in the request is gone (admins included)."""
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
        _state(account_id, region).settings = new


def _check_admins(settings: dict[str, Any]) -> None:
    """The model's list limit, then Lake Formation's principal rule, for both admin lists."""
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
def grant(account_id: str, region: str, entry: dict[str, Any]) -> None:
    """One GrantPermissions request (or BatchGrantPermissions entry)."""
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


def revoke(account_id: str, region: str, entry: dict[str, Any]) -> None:
    """One RevokePermissions request (or BatchRevokePermissions entry)."""
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


def list_permissions(
    account_id: str, region: str, principal: Any, resource: Any, resource_type: Any
) -> list[dict[str, Any]]:
    """ListPermissions' ``PrincipalResourcePermissions``, filtered by what the request gives."""
    # A Principal filter alone works here. moto refuses it ("Resource is mandatory if Principal is set in
    # the input"), perhaps as AWS does: the tool never sends one, so either way is safe.
    want_principal = principal_id(principal) if principal else None
    want_resource = normalize_resource(resource, account_id) if resource else None
    if resource_type is not None and resource_type not in TYPE_OF:
        raise InvalidInputException(f"Invalid ResourceType: {resource_type}")
    out = []
    with _lock:
        for g in _state(account_id, region).grants:
            if want_principal is not None and g.principal != want_principal:
                continue
            if want_resource is not None and not covers(want_resource, g.resource):
                continue
            if resource_type is not None and TYPE_OF[resource_type] not in g.resource:
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
    return out


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
