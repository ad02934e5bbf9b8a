"""Lake Formation in the emulator: resource registration, settings, grants on the S3 Tables catalog."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, FED_ID, REGION, error_code, federated_catalog_input, iam_principal

ROLE = f"arn:aws:iam::{ACCOUNT}:role/S3TablesRoleForLakeFormation"
FIREHOSE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose"


def test_lakeformation_register_resource_keeps_federation(emulator):
    lf = emulator.client("lakeformation")
    lf.register_resource(ResourceArn=FED_ID, RoleArn=ROLE, WithFederation=True)
    with pytest.raises(ClientError) as exc:
        lf.register_resource(ResourceArn=FED_ID, RoleArn=ROLE, WithFederation=True)
    assert error_code(exc) == "AlreadyExistsException"
    info = lf.describe_resource(ResourceArn=FED_ID)["ResourceInfo"]
    assert info["WithFederation"] is True and info["RoleArn"] == ROLE
    listed = lf.list_resources()["ResourceInfoList"]
    assert [(r["ResourceArn"], r["WithFederation"], r["RoleArn"]) for r in listed] == [(FED_ID, True, ROLE)]


def test_lakeformation_settings_put_replaces(emulator):
    lf = emulator.client("lakeformation")
    admin_arn = iam_principal(emulator.client("iam"), f"arn:aws:iam::{ACCOUNT}:user/admin")
    admin = {"DataLakePrincipalIdentifier": admin_arn}
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [admin]})
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == [admin]
    assert settings["CreateDatabaseDefaultPermissions"] == []  # replaced, not merged


def test_lakeformation_grants_on_s3tables_catalog(emulator):
    from emulator.lakeformation.models import has_permission

    glue, s3t, lf = emulator.client("glue"), emulator.client("s3tables"), emulator.client("lakeformation")
    for role in (FIREHOSE_ROLE, ROLE):
        iam_principal(emulator.client("iam"), role)
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=federated_catalog_input())
    arn = s3t.create_table_bucket(name="grants")["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=["otel"])
    s3t.create_table(tableBucketARN=arn, namespace="otel", name="logs", format="ICEBERG")
    cid = f"{ACCOUNT}:s3tablescatalog/grants"
    principal = {"DataLakePrincipalIdentifier": FIREHOSE_ROLE}
    database = {"Database": {"CatalogId": cid, "Name": "otel"}}
    table = {"Table": {"CatalogId": cid, "DatabaseName": "otel", "Name": "logs"}}
    lf.grant_permissions(Principal=principal, Resource=database, Permissions=["DESCRIBE"])
    lf.grant_permissions(Principal=principal, Resource=table, Permissions=["ALL"])
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": ROLE},
        Resource={"Catalog": {"Id": f"{ACCOUNT}:s3tablescatalog"}},
        Permissions=["ALL"],
    )
    with pytest.raises(ClientError) as exc:
        lf.grant_permissions(CatalogId=cid, Principal=principal, Resource=table, Permissions=["ALL"])
    assert error_code(exc) == "InvalidInputException"
    assert "valid AWS account id" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        lf.grant_permissions(
            Principal=principal,
            Permissions=["ALL"],
            Resource={"Table": {"CatalogId": cid, "DatabaseName": "otel", "Name": "nope"}},
        )
    assert error_code(exc) == "EntityNotFoundException"

    mine = lf.list_permissions(Principal=principal)["PrincipalResourcePermissions"]
    assert lf.list_permissions(Principal=principal, Resource=table)["PrincipalResourcePermissions"][0][
        "Permissions"
    ] == ["ALL"]
    assert sorted(
        (json.dumps(p["Resource"], sort_keys=True), tuple(p["Permissions"])) for p in mine
    ) == sorted(
        [(json.dumps(database, sort_keys=True), ("DESCRIBE",)), (json.dumps(table, sort_keys=True), ("ALL",))]
    )
    assert len(lf.list_permissions(Resource=table)["PrincipalResourcePermissions"]) == 1
    assert has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, table, "INSERT")
    assert has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, database, "DESCRIBE")
    assert not has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, database, "ALTER")
    lf.revoke_permissions(Principal=principal, Resource=table, Permissions=["ALL"])
    assert not has_permission(ACCOUNT, REGION, FIREHOSE_ROLE, table, "INSERT")
