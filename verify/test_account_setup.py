"""The account-level S3 Tables + Lake Formation setup the bash scripts' deploy makes (their stage 1)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.config import Config
from tasks.doctor import deploy_command
from tasks.steps import lf_admins, lf_role
from verify import expect


def _doc(raw: Any) -> dict[str, Any]:
    return json.loads(unquote(raw)) if isinstance(raw, str) else dict(raw)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _lf_role(clients: Clients, config: Config) -> dict[str, Any]:
    try:
        return dict(clients.iam.get_role(RoleName=expect.LF_ROLE_NAME)["Role"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchEntity":
            raise AssertionError(
                f"role {expect.LF_ROLE_NAME} does not exist: run `{deploy_command(config)}`"
            ) from None
        raise


def _role_statements(clients: Clients, role: str) -> list[dict[str, Any]]:
    """Allow statements of the role's inline and attached policies."""
    iam = clients.iam
    docs: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        docs.append(_doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]))
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        pol = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=pol["DefaultVersionId"])
        docs.append(_doc(version["PolicyVersion"]["Document"]))
    return [s for d in docs for s in _as_list(d.get("Statement", [])) if s.get("Effect") == "Allow"]


def test_lf_role_trust_policy_lets_lake_formation_use_all_three_sts_actions(clients, config):
    role = _lf_role(clients, config)
    trust = _doc(role["AssumeRolePolicyDocument"])
    allowed: set[str] = set()
    for st in _as_list(trust.get("Statement", [])):
        services = _as_list((st.get("Principal") or {}).get("Service", []))
        if st.get("Effect") == "Allow" and expect.LF_SERVICE in services:
            allowed.update(_as_list(st.get("Action", [])))
    missing = [a for a in expect.STS_ACTIONS if not any(fnmatchcase(a, p) for p in allowed)]
    assert not missing, (
        f"{expect.LF_ROLE_NAME} trust policy lets {expect.LF_SERVICE} use {sorted(allowed)}; "
        f"missing {missing} "
        f'(troubleshooting: "Unable to assume role"): run `{deploy_command(config)}`'
    )


def test_lf_role_policy_allows_the_s3tables_actions(clients, config):
    _lf_role(clients, config)
    allowed = [
        a for st in _role_statements(clients, expect.LF_ROLE_NAME) for a in _as_list(st.get("Action", []))
    ]
    missing = [
        a for a in expect.S3TABLES_ACTIONS if not any(fnmatchcase(a.lower(), p.lower()) for p in allowed)
    ]
    assert not missing, f"{expect.LF_ROLE_NAME} lacks {missing}: run `{deploy_command(config)}`"


def test_lf_role_policy_serves_every_region(clients, config):
    """IAM is global: a policy scoped to one region breaks the envs of every other region."""
    _lf_role(clients, config)
    statements = _role_statements(clients, expect.LF_ROLE_NAME)
    hint = lf_role.region_hint({"Statement": statements})
    assert not hint, f"{expect.LF_ROLE_NAME}: {hint}: run `{deploy_command(config)}`"


def test_caller_is_a_data_lake_admin(clients, config):
    settings = clients.lakeformation.get_data_lake_settings()["DataLakeSettings"]
    admins = [a["DataLakePrincipalIdentifier"] for a in settings.get("DataLakeAdmins", [])]
    hint = lf_admins.principal_hint(clients.caller_principal.arn, admins)
    assert clients.caller_principal.arn in admins, (
        f"caller {clients.caller_principal} is not among the data lake admins {admins}"
        + (f" ({hint})" if hint else "")
        + f": run `{deploy_command(config)}`"
    )


def test_table_buckets_registered_with_lake_formation_with_federation(clients, config, account_id):
    arn = expect.lf_resource_arn(config, account_id)
    try:
        info = clients.lakeformation.describe_resource(ResourceArn=arn)["ResourceInfo"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "EntityNotFoundException":
            raise AssertionError(
                f"{arn} is not registered with Lake Formation: run `{deploy_command(config)}`"
            ) from None
        raise
    assert info.get("WithFederation") is True, f"{arn} is registered without federation: {info}"
    assert info.get("WithPrivilegedAccess") is not False, (
        f"{arn} is registered without WithPrivilegedAccess: run `{deploy_command(config, repair=True)}`"
    )
    role_arn = expect.lf_role_arn(config, account_id)
    assert info.get("RoleArn") == role_arn, (
        f"{arn} is registered with role {info.get('RoleArn')}, not {role_arn}"
    )


def test_s3tablescatalog_exists_federated_to_the_table_buckets(clients, config, account_id):
    try:
        catalog = clients.glue.get_catalog(CatalogId=expect.CATALOG_NAME)["Catalog"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "EntityNotFoundException":
            raise AssertionError(
                f"Glue catalog {expect.CATALOG_NAME} does not exist: run `{deploy_command(config)}`"
            ) from None
        raise
    fed = catalog.get("FederatedCatalog") or {}
    assert fed.get("Identifier") == expect.lf_resource_arn(config, account_id), f"catalog federated to {fed}"
    assert fed.get("ConnectionName") == "aws:s3tables", f"catalog federated to {fed}"


def test_caller_has_permissions_on_s3tablescatalog(clients, config, account_id):
    resp = clients.lakeformation.list_permissions(
        Principal={"DataLakePrincipalIdentifier": clients.caller_principal.arn},
        Resource={"Catalog": {"Id": f"{account_id}:{expect.CATALOG_NAME}"}},
    )
    perms = [
        p for entry in resp.get("PrincipalResourcePermissions", []) for p in entry.get("Permissions", [])
    ]
    assert perms, (
        f"caller {clients.caller_principal} has no Lake Formation permission on "
        f"{account_id}:{expect.CATALOG_NAME}: "
        f"run `{deploy_command(config)}`"
    )
