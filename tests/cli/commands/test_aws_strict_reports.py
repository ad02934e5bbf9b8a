"""Doctor and verify name the SSO-path and one-region causes; the pure diffs of the strict rows."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.commands.test_aws_strict import SSO_ARN, _sso
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
