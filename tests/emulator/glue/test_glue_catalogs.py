"""Glue catalogs in the emulator: the federated s3tablescatalog and its child catalogs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import ACCOUNT, FED_ID, REGION, error_code, federated_catalog_input


def test_glue_catalog_lifecycle_and_errors(emulator):
    glue = emulator.client("glue")
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=federated_catalog_input())
    with pytest.raises(ClientError) as exc:
        glue.create_catalog(Name="s3tablescatalog", CatalogInput=federated_catalog_input())
    assert error_code(exc) == "AlreadyExistsException"
    for bad in ("a.b", "a/b", "aws:x", "x" * 65):
        with pytest.raises(ClientError) as exc:
            glue.create_catalog(Name=bad, CatalogInput={})
        assert error_code(exc) == "InvalidInputException", bad
    cat = glue.get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    assert cat["CatalogId"] == f"{ACCOUNT}:s3tablescatalog"
    assert cat["Name"] == "s3tablescatalog"
    assert cat["ResourceArn"] == f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog/s3tablescatalog"
    assert cat["FederatedCatalog"] == {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"}
    assert cat["CatalogProperties"] == {"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}}
    assert cat["CreateTableDefaultPermissions"] == [] and cat["CreateDatabaseDefaultPermissions"] == []
    assert "CreateTime" in cat and "UpdateTime" in cat
    assert [c["Name"] for c in glue.get_catalogs()["CatalogList"]] == ["s3tablescatalog"]

    new_input = {**federated_catalog_input(), "Description": "updated"}
    glue.update_catalog(CatalogId="s3tablescatalog", CatalogInput=new_input)
    assert glue.get_catalog(CatalogId="s3tablescatalog")["Catalog"]["Description"] == "updated"

    glue.delete_catalog(CatalogId="s3tablescatalog")
    for op in (
        lambda: glue.get_catalog(CatalogId="s3tablescatalog"),
        lambda: glue.delete_catalog(CatalogId="s3tablescatalog"),
        lambda: glue.update_catalog(CatalogId="s3tablescatalog", CatalogInput={}),
    ):
        with pytest.raises(ClientError) as exc:
            op()
        assert error_code(exc) == "EntityNotFoundException"


def test_glue_child_catalog_resolves_table_bucket(emulator):
    glue, s3t = emulator.client("glue"), emulator.client("s3tables")
    glue.create_catalog(Name="s3tablescatalog", CatalogInput=federated_catalog_input())
    with pytest.raises(ClientError) as exc:
        glue.get_catalog(CatalogId=f"{ACCOUNT}:s3tablescatalog/nobucket")
    assert error_code(exc) == "EntityNotFoundException"
    arn = s3t.create_table_bucket(name="childbucket")["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=["otel"])
    s3t.create_table(
        tableBucketARN=arn,
        namespace="otel",
        name="logs",
        format="ICEBERG",
        metadata={
            "iceberg": {
                "schema": {
                    "fields": [
                        {"name": "ts", "type": "timestamp", "required": True},
                        {"name": "n", "type": "long"},
                    ]
                }
            }
        },
    )
    for cid in ("s3tablescatalog/childbucket", f"{ACCOUNT}:s3tablescatalog/childbucket"):
        child = glue.get_catalog(CatalogId=cid)["Catalog"]
        assert child["CatalogId"] == f"{ACCOUNT}:s3tablescatalog/childbucket"
        assert child["FederatedCatalog"]["Identifier"] == arn
    cid = f"{ACCOUNT}:s3tablescatalog/childbucket"
    # Lake Formation governs what Glue shows (test_glue_lakeformation.py): a data lake admin sees all.
    emulator.client("lakeformation").put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": f"arn:aws:iam::{ACCOUNT}:user/moto"}]
        }
    )
    assert glue.get_database(CatalogId=cid, Name="otel")["Database"]["Name"] == "otel"
    table = glue.get_table(CatalogId=cid, DatabaseName="otel", Name="logs")["Table"]
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "ts", "Type": "timestamp"},
        {"Name": "n", "Type": "bigint"},
    ]
    children = glue.get_catalogs(ParentCatalogId="s3tablescatalog")["CatalogList"]
    assert [c["Name"] for c in children] == ["childbucket"]
