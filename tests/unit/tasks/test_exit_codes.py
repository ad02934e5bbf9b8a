"""The one exit-code map (tasks/errors.py) is the table the README shows; each kind of error gets its code."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from tasks.aws import CallerPrincipalUnknown
from tasks.errors import (
    EXIT_AWS,
    EXIT_CHANGES,
    EXIT_CODES,
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_USAGE,
    ChangesPending,
    Failed,
    NotDeployed,
    StepFailed,
    UserError,
    describe,
)
from tasks.lock import EnvLocked
from tests.deploy_helpers import ROOT


def test_the_readme_table_is_the_exit_code_map():
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", text, flags=re.MULTILINE)
    assert {int(code): meaning for code, meaning in rows} == EXIT_CODES


def test_each_kind_of_error_has_its_code():
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetTemplate")
    cases = {
        UserError("error: x"): EXIT_USAGE,
        StepFailed("deploy:stack failed"): EXIT_FAILED,
        NotDeployed("error: stack s is not deployed"): EXIT_FAILED,
        EnvLocked("error: env local is locked"): EXIT_FAILED,
        NoCredentialsError(): EXIT_CREDENTIALS,
        denied: EXIT_AWS,
        EndpointConnectionError(endpoint_url="http://x"): EXIT_AWS,
        CallerPrincipalUnknown("error: cannot read the caller's IAM role"): EXIT_AWS,
        Failed("error: plan could not read stack", EXIT_AWS): EXIT_AWS,
        ChangesPending(""): EXIT_CHANGES,
    }
    for exc, code in cases.items():
        assert describe(exc)[1] == code, exc
    assert describe(denied)[0] == "error: GetTemplate failed: AccessDenied: no"
