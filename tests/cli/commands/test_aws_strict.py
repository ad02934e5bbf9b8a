"""Where AWS is strict, the tool is right and the local AWS refuses what AWS refuses.

Rows: the caller's Lake Formation principal (an SSO role with a path), the Lake Formation role shared by every
region, Glue's CatalogInput (top-level AllowFullTableExternalDataAccess), the catalog's IAM access-control
mode, the privileged registration, and the limit of 30 data lake admins.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tasks import send as sender
from tasks.aws import Clients
from tasks.errors import StepFailed
from tasks.step import Options
from tests.cli.verify_helpers import run_verify
from tests.deploy_helpers import deploy, doit, doit_cli, mutating, run
from tests.emulator.helpers import iam_principal
from tests.emulator.streams import flush_until_quiet

ACCOUNT = "123456789012"
SSO_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-2/"
SSO_ROLE = "AWSReservedSSO_Admin_0123abcd"
SSO_ARN = f"arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}"
FED_ID = f"arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/*"


def _sso(emu: Any, **extra: Any) -> dict[str, Any]:
    spec = {"role_path": SSO_PATH, "role_name": SSO_ROLE, "session": "deployer", **extra}
    return dict(emu.set_identity(spec))


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _admins(emu: Any) -> list[str]:
    settings = emu.client("lakeformation").get_data_lake_settings()["DataLakeSettings"]
    return [a["DataLakePrincipalIdentifier"] for a in settings.get("DataLakeAdmins", [])]


# -- row 1: the caller's principal ---------------------------------------------------------------------


def test_emulator_identity_is_an_sso_role_with_its_path_and_delete_restores_the_default(emulator):
    sts, iam = emulator.client("sts"), emulator.client("iam")
    default = sts.get_caller_identity()["Arn"]
    assert default == f"arn:aws:iam::{ACCOUNT}:user/moto"
    assert iam.get_user(UserName="moto")["User"]["Arn"] == default

    _sso(emulator)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/deployer"
    role = iam.get_role(RoleName=SSO_ROLE)["Role"]
    assert role["Path"] == SSO_PATH and role["Arn"] == SSO_ARN

    emulator.clear_identity()
    assert sts.get_caller_identity()["Arn"] == default


@pytest.mark.parametrize(
    "spec",
    [
        {"role_path": "aws-reserved/", "role_name": SSO_ROLE},  # a path starts and ends with /
        {"role_path": SSO_PATH, "role_name": "bad name"},
        {"role_path": SSO_PATH, "role_name": SSO_ROLE, "denied": ["GetRole"]},
        {"role_path": SSO_PATH, "role_name": SSO_ROLE, "colour": "blue"},
    ],
)
def test_identity_admin_api_refuses_a_bad_spec_with_400(emulator, spec):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as exc:
        emulator.set_identity(spec)
    assert exc.value.code == 400
    assert emulator.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moto"


def test_credentials_moto_issued_keep_their_own_identity(emulator):
    _sso(emulator)
    role = iam_principal(emulator.client("iam"), f"arn:aws:iam::{ACCOUNT}:role/Worker")
    creds = emulator.client("sts").assume_role(RoleArn=role, RoleSessionName="worker")["Credentials"]
    sts = boto3.session.Session().client(
        "sts",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/worker"


def test_lake_formation_refuses_a_principal_that_names_no_iam_entity(emulator):
    lf = emulator.client("lakeformation")
    _sso(emulator)
    pathless = f"arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}"
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/deployer"
    for bad in (pathless, session, f"arn:aws:iam::{ACCOUNT}:user/nobody"):
        with pytest.raises(ClientError) as exc:
            lf.put_data_lake_settings(
                DataLakeSettings={"DataLakeAdmins": [{"DataLakePrincipalIdentifier": bad}]}
            )
        assert _code(exc) == "InvalidInputException"
        assert exc.value.response["Error"]["Message"] == f"Invalid path for user, arn: {bad}"
        with pytest.raises(ClientError) as exc:
            lf.grant_permissions(
                Principal={"DataLakePrincipalIdentifier": bad},
                Resource={"Catalog": {"Id": ACCOUNT}},
                Permissions=["CREATE_DATABASE"],
            )
        assert _code(exc) == "InvalidInputException"
    failures = lf.batch_grant_permissions(
        Entries=[
            {
                "Id": "1",
                "Principal": {"DataLakePrincipalIdentifier": pathless},
                "Resource": {"Catalog": {"Id": ACCOUNT}},
                "Permissions": ["CREATE_DATABASE"],
            }
        ]
    )["Failures"]
    assert [f["Error"]["ErrorCode"] for f in failures] == ["InvalidInputException"]
    # The full ARN, path included, is accepted everywhere.
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [{"DataLakePrincipalIdentifier": SSO_ARN}]})
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": SSO_ARN},
        Resource={"Catalog": {"Id": ACCOUNT}},
        Permissions=["CREATE_DATABASE"],
    )


def test_whole_flow_as_an_sso_caller(emulator, tmp_path):
    _sso(emulator)
    first = doit(emulator, tmp_path, "deploy", "env=local", "firehose.buffering_interval_seconds=0")
    assert first.returncode == 0, first.stdout + first.stderr
    assert SSO_ARN in _admins(emulator)

    emulator.reset_calls()
    again = doit(emulator, tmp_path, "deploy", "env=local", "firehose.buffering_interval_seconds=0")
    assert again.returncode == 0, again.stdout + again.stderr
    assert mutating(emulator) == {}
    assert emulator.call_count("iam", "GetRole") == 2  # the caller's role, and S3TablesRoleForLakeFormation

    status = doit(emulator, tmp_path, "status", "env=local", "firehose.buffering_interval_seconds=0")
    assert status.returncode == 0, status.stdout + status.stderr

    proc, _ = run_verify(emulator, "--delivery-margin", "30")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    gone = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert gone.returncode == 0, gone.stdout + gone.stderr


def test_a_caller_that_cannot_read_its_role_gets_one_line_or_sets_caller_principal(emulator, tmp_path):
    _sso(emulator, denied=[f"iam:GetRole/{SSO_ROLE}"])  # it may read other roles, not its own
    emulator.reset_calls()
    out = doit_cli(emulator, tmp_path, "deploy", "env=local")  # exit 4's real process (test_exit_codes.py)
    assert out.returncode == 4, out.stdout + out.stderr  # an AWS error (AccessDenied): the exit-code table
    line = out.stderr.strip().splitlines()[-1]
    assert "iam:GetRole" in line and "caller_principal" in line and SSO_ROLE in line, out.stderr
    assert "Traceback" not in out.stderr
    assert mutating(emulator) == {}

    ok = doit(emulator, tmp_path, "deploy", "env=local", f"caller_principal={SSO_ARN}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert SSO_ARN in _admins(emulator)


@pytest.mark.parametrize(
    "bad",
    [
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/deployer",  # a session, not the role
        f"arn:aws-cn:iam::{ACCOUNT}:role/{SSO_ROLE}",  # another partition than the env's region
    ],
)
def test_caller_principal_setting_must_be_a_full_iam_arn(emulator, tmp_path, bad):
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "plan", "env=local", f"caller_principal={bad}")
    assert out.returncode == 2 and "caller_principal=" in out.stderr, out.stdout + out.stderr
    assert sum(c["count"] for c in emulator.calls()) == 0


# -- row 2: one Lake Formation role for every region ------------------------------------------------------


def test_envs_in_two_regions_share_the_lake_formation_role(emulator):
    from pyiceberg.table import StaticTable

    from tasks.config import load
    from tasks.runner import Run

    deploy(emulator)  # env A (local), us-east-1
    cfg_b = load(
        "west",
        {
            "endpoint": emulator.endpoint,
            "region": "eu-west-1",
            "firehose.buffering_interval_seconds": "0",
            "firehose.retry_duration_seconds": "0",
        },
    )
    Run(cfg_b).deploy_sequential()  # env B, eu-west-1
    emulator.reset_calls()
    deploy(emulator)  # A again
    assert mutating(emulator) == {}

    policy = emulator.client("iam").get_role_policy(
        RoleName="S3TablesRoleForLakeFormation", PolicyName="S3TablesDataAccess"
    )["PolicyDocument"]
    resources = {json.dumps(s["Resource"]) for s in policy["Statement"]}
    assert json.dumps(f"arn:aws:s3tables:*:{ACCOUNT}:bucket/*") in resources

    run_id, results = sender.send(Clients(cfg_b), cfg_b, ["logs"], 20)
    assert results[0].failed == 0
    flush_until_quiet(emulator)
    s3t = boto3.session.Session().client("s3tables", endpoint_url=emulator.endpoint, region_name="eu-west-1")
    arn = f"arn:aws:s3tables:eu-west-1:{ACCOUNT}:bucket/{cfg_b.table_bucket_name}"
    loc = s3t.get_table_metadata_location(tableBucketARN=arn, namespace=cfg_b.namespace, name="logs")
    rows = StaticTable.from_metadata(loc["metadataLocation"]).scan().to_arrow()
    keys = [k for k in rows.column("service_instance_id").to_pylist() if k and k.startswith(f"{run_id}:")]
    assert len(keys) == 20


# -- rows 3 and 4: the Glue catalog ------------------------------------------------------------------------


def test_catalog_is_created_with_top_level_allow_full_table_external_data_access(emulator):
    deploy(emulator)
    cat = emulator.client("glue").get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    assert cat["AllowFullTableExternalDataAccess"] == "True"


def _raw_glue(emu: Any, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A signed Glue request as any client may send it (boto3 cannot serialise an unknown member)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSGlue.{operation}"}
    req = AWSRequest(method="POST", url=f"{emu.endpoint}/", data=json.dumps(body).encode(), headers=headers)
    SigV4Auth(Credentials("testing", "testing"), "glue", "us-east-1").add_auth(req)
    prepared = urllib.request.Request(str(req.url), data=req.body, headers=dict(req.headers), method="POST")  # type: ignore[arg-type]
    try:
        with urllib.request.urlopen(prepared, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.mark.parametrize(
    "catalog_input",
    [
        {"FederatedCatalog": {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"}, "Unknown": "x"},
        {"AllowFullTableExternalDataAccess": "true"},  # enum: True | False
        {"CatalogProperties": {"CustomProperties": {"k": 1}}},  # a map of strings
    ],
)
def test_glue_refuses_a_catalog_input_the_model_does_not_allow(emulator, catalog_input):
    status, body = _raw_glue(
        emulator, "CreateCatalog", {"Name": "s3tablescatalog", "CatalogInput": catalog_input}
    )
    assert (status, body.get("__type")) == (400, "InvalidInputException"), body
    with pytest.raises(ClientError) as exc:
        emulator.client("glue").get_catalog(CatalogId="s3tablescatalog")
    assert _code(exc) == "EntityNotFoundException"


def _iam_mode_catalog(emu: Any) -> None:
    everyone = [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    emu.client("glue").create_catalog(
        Name="s3tablescatalog",
        CatalogInput={
            "FederatedCatalog": {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"},
            "CreateDatabaseDefaultPermissions": everyone,
            "CreateTableDefaultPermissions": everyone,
            "AllowFullTableExternalDataAccess": "True",
        },
    )


def test_a_catalog_in_iam_access_mode_is_a_note_and_changed_only_with_repair(emulator, tmp_path):
    _iam_mode_catalog(emulator)
    before = emulator.client("glue").get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "deploy", "env=local")
    assert out.returncode == 0, out.stdout + out.stderr
    assert emulator.call_count("glue", "UpdateCatalog") == 0
    assert "catalog: unchanged" in out.stdout and "IAM access-control mode" in out.stdout
    after = emulator.client("glue").get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    assert after == before

    status = doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode == 0 and "IAM access-control mode" in status.stdout, status.stdout
    plan = doit(emulator, tmp_path, "plan", "env=local")
    assert "IAM access-control mode" in plan.stdout, plan.stdout

    repaired = doit(emulator, tmp_path, "deploy", "env=local", "repair=1")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    cat = emulator.client("glue").get_catalog(CatalogId="s3tablescatalog")["Catalog"]
    assert cat["CreateDatabaseDefaultPermissions"] == [] and cat["CreateTableDefaultPermissions"] == []


# -- row 5: the privileged registration ------------------------------------------------------------------


def test_registration_sends_with_privileged_access_and_repairs_one_without(emulator):
    deploy(emulator)
    lf = emulator.client("lakeformation")
    info = lf.describe_resource(ResourceArn=FED_ID)["ResourceInfo"]
    assert info["WithFederation"] is True and info["WithPrivilegedAccess"] is True

    role = info["RoleArn"]
    lf.deregister_resource(ResourceArn=FED_ID)
    lf.register_resource(ResourceArn=FED_ID, RoleArn=role, WithFederation=True)
    emulator.reset_calls()
    r = deploy(emulator)
    res = r.results["lf_resource"]
    assert res.outcome.result == "unchanged" and "WithPrivilegedAccess=False" in res.diff.notes[0]
    assert mutating(emulator) == {}

    repaired = run(emulator, options=Options(repair=True))
    repaired.deploy_sequential()
    assert repaired.results["lf_resource"].outcome.result == "replaced"
    info = lf.describe_resource(ResourceArn=FED_ID)["ResourceInfo"]
    assert (info["RoleArn"], info["WithFederation"], info["WithPrivilegedAccess"]) == (role, True, True)


# -- row 9 (part): at most 30 data lake admins -----------------------------------------------------------


def _admins_of(emu: Any, n: int) -> list[dict[str, str]]:
    iam = emu.client("iam")
    return [
        {"DataLakePrincipalIdentifier": iam_principal(iam, f"arn:aws:iam::{ACCOUNT}:role/admin{i}")}
        for i in range(n)
    ]


def test_put_data_lake_settings_refuses_more_than_30_admins(emulator):
    lf = emulator.client("lakeformation")
    admins = _admins_of(emulator, 31)
    with pytest.raises(ClientError) as exc:
        lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": admins})
    assert _code(exc) == "InvalidInputException"
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": admins[:30]})
    assert len(_admins(emulator)) == 30


def test_more_than_30_admins_is_a_clear_error_before_the_write(emulator):
    lf = emulator.client("lakeformation")
    lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": _admins_of(emulator, 30)})
    emulator.reset_calls()
    with pytest.raises(StepFailed) as exc:
        deploy(emulator)
    assert str(exc.value).startswith("deploy:lf_admins failed: cannot add ")
    assert "at most 30" in str(exc.value)
    assert emulator.call_count("lakeformation", "PutDataLakeSettings") == 0
    assert len(_admins(emulator)) == 30
