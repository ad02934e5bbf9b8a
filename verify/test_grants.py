"""Lake Formation grants to the Firehose role (the bash scripts' stage 3).

DESCRIBE on the namespace, ALL on each table.
"""

from __future__ import annotations

from tasks.doctor import deploy_command
from verify import expect


def _permissions(clients, principal: str, resource: dict) -> set[str]:
    resp = clients.lakeformation.list_permissions(
        Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource
    )
    return {p for entry in resp.get("PrincipalResourcePermissions", []) for p in entry.get("Permissions", [])}


def test_firehose_role_can_describe_the_namespace(clients, config, account_id, stack_outputs):
    role = stack_outputs["FirehoseRoleArn"]
    catalog = expect.bucket_catalog_id(config, account_id)
    got = _permissions(clients, role, {"Database": {"CatalogId": catalog, "Name": config.namespace}})
    assert got & {"DESCRIBE", "ALL"}, (
        f"grant missing: DESCRIBE on database {catalog}/{config.namespace} to {role} (has {sorted(got)}): "
        f"run `{deploy_command(config)}`"
    )


def test_firehose_role_has_all_on_the_table(clients, config, account_id, stack_outputs, signal):
    role = stack_outputs["FirehoseRoleArn"]
    catalog = expect.bucket_catalog_id(config, account_id)
    resource = {"Table": {"CatalogId": catalog, "DatabaseName": config.namespace, "Name": signal}}
    got = _permissions(clients, role, resource)
    assert "ALL" in got, (
        f"grant missing: ALL on table {catalog}/{config.namespace}.{signal} to {role} (has {sorted(got)}): "
        f"run `{deploy_command(config)}`"
    )
