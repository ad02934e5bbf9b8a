"""Shared by the readers tests: principals, their grants, their credentials, and queries made as them."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import boto3

from tests.deploy_helpers import DOIT, ROOT
from tests.emulator.helpers import iam_principal
from tests.waiting import wait_for

ACCOUNT = "123456789012"
ANALYST = f"arn:aws:iam::{ACCOUNT}:role/people/analyst"
GRAFANA = f"arn:aws:iam::{ACCOUNT}:role/grafana"
BASE = {"ingest.enabled": "false", "signals": "logs,traces"}
BUCKET = "otlp2pipeline-local"
CATALOG_ID = f"{ACCOUNT}:s3tablescatalog/{BUCKET}"
RECORD = "/otlp2pipeline/local/readers"
WORKGROUP = "otlp2pipeline-local"
RESULTS_BUCKET = f"otlp2pipeline-local-athena-{ACCOUNT}-us-east-1"
# What deploy grants each reader: DESCRIBE on the namespace, SELECT and DESCRIBE on each table.
READ = {
    ("database", "default"): {"DESCRIBE"},
    ("table", "logs"): {"SELECT", "DESCRIBE"},
    ("table", "traces"): {"SELECT", "DESCRIBE"},
}
NO_DATABASE = "Iceberg cannot access the requested resource"


def with_readers(*readers: str, **extra: str) -> dict[str, str]:
    return {**BASE, "readers": ",".join(readers), **extra}


def people(emu: Any) -> None:
    """The analyst's role (under a path, as an SSO role is) and Grafana's, trusting the account."""
    iam = emu.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for arn in (ANALYST, GRAFANA):
        iam_principal(iam, arn)
        iam.update_assume_role_policy(RoleName=arn.rsplit("/", 1)[1], PolicyDocument=json.dumps(trust))


def grants_of(emu: Any, principal: str) -> dict[tuple[str, ...], set[str]]:
    """The principal's Lake Formation permissions in the env's catalog, by resource."""
    out: dict[tuple[str, ...], set[str]] = {}
    listing = emu.client("lakeformation").list_permissions(MaxResults=1000)["PrincipalResourcePermissions"]
    for e in listing:
        if e["Principal"]["DataLakePrincipalIdentifier"] != principal:
            continue
        res = e["Resource"]
        key = ("database", res["Database"]["Name"]) if "Database" in res else ("table", res["Table"]["Name"])
        out.setdefault(key, set()).update(e["Permissions"])
    return out


def grant(emu: Any, principal: str, table: str | None, *perms: str) -> None:
    """A grant made by someone else than the tool (None: on the namespace)."""
    resource: dict[str, Any] = (
        {"Database": {"CatalogId": CATALOG_ID, "Name": "default"}}
        if table is None
        else {"Table": {"CatalogId": CATALOG_ID, "DatabaseName": "default", "Name": table}}
    )
    emu.client("lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": principal}, Resource=resource, Permissions=list(perms)
    )


def attach_readers_policy(emu: Any, role_arn: str) -> str:
    """What the docs tell a user to do: attach the stack's ReadersPolicyArn output to the reader's role."""
    stack = emu.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["ReadersPolicyArn"]
    emu.client("iam").attach_role_policy(RoleName=role_arn.rsplit("/", 1)[1], PolicyArn=arn)
    return str(arn)


def credentials(emu: Any, role_arn: str) -> dict[str, str]:
    """The role's STS session credentials, as the person (or Grafana) would hold them."""
    creds = emu.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="reader")["Credentials"]
    return {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def client_as(emu: Any, service: str, creds: dict[str, str]) -> Any:
    make: Any = boto3.client  # a service named at run time (the stubs type each name's client)
    return make(
        service,
        endpoint_url=emu.endpoint,
        region_name=emu.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def ensure_workgroup(emu: Any) -> None:
    """The env's Athena workgroup and results bucket, named as the stack names them (made here when the
    stack does not hold them)."""
    athena = emu.client("athena")
    if WORKGROUP in {w["Name"] for w in athena.list_work_groups()["WorkGroups"]}:
        return
    emu.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    athena.create_work_group(
        Name=WORKGROUP,
        Configuration={
            "EnforceWorkGroupConfiguration": True,
            "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS_BUCKET}/results/"},
        },
    )


def athena_query(athena: Any, sql: str) -> dict[str, Any]:
    """Run `sql` in the env's workgroup and catalog; the finished execution."""
    qid = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=WORKGROUP,
        QueryExecutionContext={"Catalog": f"s3tablescatalog/{BUCKET}", "Database": "default"},
    )["QueryExecutionId"]

    def done() -> dict[str, Any]:
        qe: dict[str, Any] = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        return qe if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else {}

    return wait_for(done, timeout=60, what=f"query {sql!r}")


def doit_as(emu: Any, tmp_path: Any, creds: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`doit ARGS` with the reader's credentials in the environment, as the reader runs it."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": emu.endpoint,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [*DOIT, "--db-file", str(tmp_path / "doit-deps.json"), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
