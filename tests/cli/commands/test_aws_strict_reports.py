"""Issue 11: doctor and verify name the SSO-path and one-region causes; the pure diffs of the strict rows."""

from __future__ import annotations

import json
from typing import Any

from tasks.steps import lf_admins
from tests.cli.commands.test_aws_strict import ACCOUNT, FED_ID, SSO_ARN, SSO_ROLE, _sso
from tests.cli.verify_helpers import run_verify
from tests.deploy_helpers import deploy

# -- doctor and verify name the SSO and region causes ------------------------------------------------------


def _failed_findings(emu: Any) -> list[Any]:
    import io

    from tasks import doctor
    from tests.cli import verify_helpers as vh

    findings = doctor.run(vh.local_config(emu), {"endpoint": emu.endpoint}, io.StringIO())
    return [f for f in findings if not f.ok]


def test_doctor_and_verify_name_the_sso_path_when_the_caller_is_not_an_admin(emulator):
    deploy(emulator)  # by the default caller; then an SSO caller arrives
    _sso(emulator)
    bad = _failed_findings(emulator)
    assert any("IAM Identity Center (SSO)" in f.found and SSO_ARN in f.found for f in bad), bad
    proc, _ = run_verify(emulator, "-k", "caller_is_a_data_lake_admin")
    assert proc.returncode == 1 and "IAM Identity Center (SSO)" in proc.stdout, proc.stdout[-3000:]


def test_doctor_and_verify_name_a_lake_formation_role_policy_of_one_region(emulator):
    deploy(emulator)
    iam = emulator.client("iam")
    name, policy = "S3TablesRoleForLakeFormation", "S3TablesDataAccess"
    doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
    one_region = json.dumps(doc).replace(":s3tables:*:", ":s3tables:us-east-1:")  # as the old tool wrote it
    iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=one_region)
    bad = _failed_findings(emulator)
    assert any("covers only us-east-1" in f.found for f in bad), bad
    proc, _ = run_verify(emulator, "-k", "serves_every_region")
    assert proc.returncode == 1 and "covers only us-east-1" in proc.stdout, proc.stdout[-3000:]


# -- the pure diffs ----------------------------------------------------------------------------------------


def test_pure_diffs_of_the_strict_rows():
    from tasks.config import load
    from tasks.steps import catalog, lf_resource, lf_role

    role = f"arn:aws:iam::{ACCOUNT}:role/S3TablesRoleForLakeFormation"
    # A registration that is right except for privileged access: absent is unknown, False is reported.
    assert lf_resource.diff(lf_resource.Desired(FED_ID, role), lf_resource.Observed(True, role, True)).empty
    note = lf_resource.diff(lf_resource.Desired(FED_ID, role), lf_resource.Observed(True, role, True, False))
    assert note.empty and "WithPrivilegedAccess=False" in note.notes[0]
    fix = lf_resource.diff(
        lf_resource.Desired(FED_ID, role, repair=True), lf_resource.Observed(True, role, True, False)
    )
    assert [c.action for c in fix.changes] == ["replace"]

    # The catalog: the top-level member is compared; IAM mode is a note, repair=1 makes it a change.
    want = catalog.catalog_input(load("prod", {"region": "us-east-1"}), ACCOUNT)
    everyone = [
        {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"]}
    ]
    iam_mode = {
        **want,
        "CreateDatabaseDefaultPermissions": everyone,
        "CreateTableDefaultPermissions": everyone,
    }
    d = catalog.diff(catalog.Desired(want), catalog.Observed(iam_mode))
    assert d.empty and "IAM_ALLOWED_PRINCIPALS" in d.notes[0] and "repair=1" in d.notes[0]
    d = catalog.diff(catalog.Desired(want, repair=True), catalog.Observed(iam_mode))
    assert set(d.changes[0].fields) == {"CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"}
    old = {**want, "AllowFullTableExternalDataAccess": None}
    d = catalog.diff(catalog.Desired(want), catalog.Observed(old))
    assert d.changes[0].fields == {"AllowFullTableExternalDataAccess": (None, "True")}

    # The caller hint and the region hint.
    pathless = f"arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}"
    assert "SSO" in lf_admins.principal_hint(SSO_ARN, [pathless]) and pathless in lf_admins.principal_hint(
        SSO_ARN, [pathless]
    )
    assert lf_admins.principal_hint(SSO_ARN, [SSO_ARN]) == ""
    assert lf_admins.principal_hint(f"arn:aws:iam::{ACCOUNT}:user/moto", []) == ""
    scoped = {
        "Statement": [{"Resource": f"arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/*"}, {"Resource": "*"}]
    }
    assert lf_role.region_scoped(scoped) == ["us-east-1"]
    assert (
        lf_role.region_scoped({"Statement": [{"Resource": [f"arn:aws:s3tables:*:{ACCOUNT}:bucket/*"]}]}) == []
    )
