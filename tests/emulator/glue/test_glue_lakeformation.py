"""Lake Formation governs Glue's reads of a table bucket's child catalog (emulator/glue/access.py): a
principal sees the databases and tables it holds a permission on, and is refused the others with
AccessDeniedException, as Lake Formation's metadata permissions do; admins see all; IAM mode is not
governed."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import (
    ACCOUNT,
    NAMESPACE,
    catalog_id,
    create_s3tables_catalog,
    create_table,
    error_code,
    iam_principal,
)

BUCKET = "glue-lf"
CID = catalog_id(BUCKET)
DEFAULT_USER = f"arn:aws:iam::{ACCOUNT}:user/moto"
READER = f"arn:aws:iam::{ACCOUNT}:role/people/reader"


@pytest.fixture
def lake(emulator: Any) -> Any:
    """A Lake Formation mode catalog, a bucket with tables logs and traces in namespace otel."""
    create_s3tables_catalog(emulator.client("glue"))
    s3t = emulator.client("s3tables")
    arn = s3t.create_table_bucket(name=BUCKET)["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    create_table(s3t, arn, "logs")
    create_table(s3t, arn, "traces")
    iam_principal(emulator.client("iam"), READER)
    return emulator


def _grant(emu: Any, principal: str, resource: dict[str, Any], *perms: str) -> None:
    emu.client("lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource, Permissions=list(perms)
    )


def _table(name: str) -> dict[str, Any]:
    return {"Table": {"CatalogId": CID, "DatabaseName": NAMESPACE, "Name": name}}


def _denied(exc: pytest.ExceptionInfo[ClientError], name: str) -> None:
    assert error_code(exc) == "AccessDeniedException"
    assert exc.value.response["Error"]["Message"] == f"Insufficient Lake Formation permission(s) on {name}"


def test_a_principal_without_grants_is_refused_every_read_and_learns_nothing(lake):
    glue = lake.client("glue")
    for call, name in (
        (lambda: glue.get_database(CatalogId=CID, Name=NAMESPACE), NAMESPACE),
        (lambda: glue.get_tables(CatalogId=CID, DatabaseName=NAMESPACE), NAMESPACE),
        (lambda: glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs"), "logs"),
        # a table that does not exist answers the same: Lake Formation does not say what exists
        (lambda: glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="nosuch"), "nosuch"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        _denied(exc, name)
    assert glue.get_databases(CatalogId=CID)["DatabaseList"] == []


def test_a_principal_sees_exactly_what_it_holds_a_permission_on(lake):
    glue = lake.client("glue")
    _grant(lake, DEFAULT_USER, {"Database": {"CatalogId": CID, "Name": NAMESPACE}}, "DESCRIBE")
    assert glue.get_database(CatalogId=CID, Name=NAMESPACE)["Database"]["Name"] == NAMESPACE
    assert glue.get_tables(CatalogId=CID, DatabaseName=NAMESPACE)["TableList"] == []
    with pytest.raises(ClientError) as exc:
        glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs")
    _denied(exc, "logs")
    _grant(lake, DEFAULT_USER, _table("logs"), "SELECT")  # any permission shows the table
    assert glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs")["Table"]["Name"] == "logs"
    tables = glue.get_tables(CatalogId=CID, DatabaseName=NAMESPACE)["TableList"]
    assert [t["Name"] for t in tables] == ["logs"]
    with pytest.raises(ClientError) as exc:
        glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="traces")
    _denied(exc, "traces")
    assert [d["Name"] for d in glue.get_databases(CatalogId=CID)["DatabaseList"]] == [NAMESPACE]


def test_a_table_grant_alone_shows_its_database(lake):
    glue = lake.client("glue")
    _grant(lake, DEFAULT_USER, _table("traces"), "DESCRIBE")
    assert glue.get_database(CatalogId=CID, Name=NAMESPACE)["Database"]["Name"] == NAMESPACE
    assert [t["Name"] for t in glue.get_tables(CatalogId=CID, DatabaseName=NAMESPACE)["TableList"]] == [
        "traces"
    ]


def test_an_assumed_role_reads_with_its_roles_grants(lake):
    creds = lake.client("sts").assume_role(RoleArn=READER, RoleSessionName="grafana")["Credentials"]
    glue = boto3.client(
        "glue",
        endpoint_url=lake.endpoint,
        region_name=lake.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    _grant(lake, DEFAULT_USER, _table("logs"), "SELECT")  # the caller's grant is not the role's
    with pytest.raises(ClientError) as exc:
        glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs")
    _denied(exc, "logs")
    _grant(lake, READER, _table("logs"), "SELECT", "DESCRIBE")
    assert glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs")["Table"]["Name"] == "logs"


def test_a_data_lake_admin_sees_everything_and_gets_not_found_for_what_is_missing(lake):
    glue = lake.client("glue")
    for key in ("DataLakeAdmins", "ReadOnlyAdmins"):
        lake.client("lakeformation").put_data_lake_settings(
            DataLakeSettings={key: [{"DataLakePrincipalIdentifier": DEFAULT_USER}]}
        )
        tables = glue.get_tables(CatalogId=CID, DatabaseName=NAMESPACE)["TableList"]
        assert [t["Name"] for t in tables] == ["logs", "traces"]
        with pytest.raises(ClientError) as exc:
            glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="nosuch")
        assert error_code(exc) == "EntityNotFoundException"


def test_a_catalog_in_iam_mode_is_not_governed(emulator):
    everyone = [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    create_s3tables_catalog(
        emulator.client("glue"),
        CreateDatabaseDefaultPermissions=everyone,
        CreateTableDefaultPermissions=everyone,
    )
    s3t = emulator.client("s3tables")
    arn = s3t.create_table_bucket(name=BUCKET)["arn"]
    s3t.create_namespace(tableBucketARN=arn, namespace=[NAMESPACE])
    create_table(s3t, arn, "logs")
    glue = emulator.client("glue")
    assert glue.get_table(CatalogId=CID, DatabaseName=NAMESPACE, Name="logs")["Table"]["Name"] == "logs"
