"""The local Athena reads under the caller's Lake Formation grants: the default user, an identity set with
the admin API, and a role assumed through STS, each needing DESCRIBE on the namespace and SELECT on the
table; a data lake admin gets no SELECT by being one."""

from __future__ import annotations

import json

from tests.emulator.athena.conftest import BUCKET, DEFAULT_USER, NAMESPACE, OUTPUT, grant, run, values
from tests.emulator.helpers import catalog_id, iam_principal

NO_TABLE = (
    "Insufficient permissions to execute the query. Principal does not have any privilege on specified "
    "resource"
)
NO_DATABASE = "Iceberg cannot access the requested resource"
ROLE = "arn:aws:iam::123456789012:role/readers/analyst"


def _revoke_table(emu, principal):
    emu.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": principal},
        Permissions=["SELECT", "DESCRIBE"],
        Resource={"Table": {"CatalogId": catalog_id(BUCKET), "DatabaseName": NAMESPACE, "Name": "logs"}},
    )


def test_a_principal_without_select_fails_and_with_select_succeeds(lake):
    emu, ath = lake["emu"], lake["athena"]
    _revoke_table(emu, DEFAULT_USER)
    qe = run(ath, "SELECT count(*) FROM logs")
    assert qe["Status"]["State"] == "FAILED"
    assert qe["Status"]["StateChangeReason"] == NO_TABLE
    assert qe["Status"]["AthenaError"]["ErrorType"] == 1500  # "Permission error"
    grant(emu, DEFAULT_USER, database=False)
    qe = run(ath, "SELECT count(*) FROM logs")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    assert values(ath, qe["QueryExecutionId"])[1] == ["5"]


def test_a_table_grant_without_the_namespace_grant_is_not_enough(lake):
    emu, ath = lake["emu"], lake["athena"]
    emu.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": DEFAULT_USER},
        Permissions=["DESCRIBE"],
        Resource={"Database": {"CatalogId": catalog_id(BUCKET), "Name": NAMESPACE}},
    )
    qe = run(ath, "SELECT count(*) FROM logs")
    assert qe["Status"]["State"] == "FAILED"
    assert qe["Status"]["StateChangeReason"] == NO_DATABASE


def test_a_data_lake_admin_has_no_implicit_select(lake):
    emu, ath = lake["emu"], lake["athena"]
    _revoke_table(emu, DEFAULT_USER)
    emu.client("lakeformation").put_data_lake_settings(
        DataLakeSettings={"DataLakeAdmins": [{"DataLakePrincipalIdentifier": DEFAULT_USER}]}
    )
    qe = run(ath, "SELECT count(*) FROM logs")
    assert qe["Status"]["StateChangeReason"] == NO_TABLE


def test_the_identity_set_with_the_admin_api_reads_with_its_roles_grants(lake):
    emu, ath = lake["emu"], lake["athena"]
    emu.set_identity({"role_path": "/readers/", "role_name": "analyst", "session": "alice"})
    try:
        qe = run(ath, "SELECT count(*) FROM logs")
        assert qe["Status"]["StateChangeReason"] == NO_DATABASE  # the user's grants are not the role's
        grant(emu, ROLE)
        qe = run(ath, "SELECT count(*) FROM logs")
        assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    finally:
        emu.clear_identity()


def test_an_assumed_role_reads_with_its_roles_grants(lake):
    emu = lake["emu"]
    iam_principal(emu.client("iam"), ROLE)
    iam = emu.client("iam")
    iam.update_assume_role_policy(
        RoleName="analyst",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    creds = emu.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="grafana")["Credentials"]
    import boto3

    ath = boto3.client(
        "athena",
        endpoint_url=emu.endpoint,
        region_name=emu.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    sql = "SELECT count(*) FROM logs"
    ctx = {"Catalog": f"s3tablescatalog/{BUCKET}", "Database": NAMESPACE}
    kw = {"QueryExecutionContext": ctx, "ResultConfiguration": {"OutputLocation": OUTPUT}}
    assert run(ath, sql, **kw)["Status"]["StateChangeReason"] == NO_DATABASE
    grant(emu, ROLE)
    assert run(ath, sql, **kw)["Status"]["State"] == "SUCCEEDED"
