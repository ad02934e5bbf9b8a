"""Account setup: the caller among the Lake Formation data lake administrators.

PutDataLakeSettings REPLACES the whole settings object: the observed settings are written back
unchanged except for the one admin added, so other admins and defaults survive. Lake Formation takes at
most 30 data lake admins (lakeformation model): a 31st is refused here, before the write.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from tasks.aws import Principal
from tasks.errors import StepFailed
from tasks.step import Change, Context, Diff, Outcome

NAME = "lf_admins"
MAX_ADMINS = 30  # DataLakePrincipalList max, lakeformation model


@dataclass(frozen=True)
class Desired:
    admin: Principal


@dataclass(frozen=True)
class Observed:
    settings: dict[str, Any]

    @property
    def admins(self) -> list[str]:
        return [a.get("DataLakePrincipalIdentifier", "") for a in self.settings.get("DataLakeAdmins", [])]


def desired(ctx: Context) -> Desired:
    return Desired(ctx.clients.caller_principal)


def observe(ctx: Context) -> Observed:
    return Observed(ctx.clients.lakeformation.get_data_lake_settings().get("DataLakeSettings", {}))


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    if want.admin.arn in have.admins:
        return Diff()
    return Diff(
        [
            Change(
                "create",
                f"lake formation data lake admin {want.admin}",
                {"DataLakeAdmins": (have.admins, [*have.admins, want.admin.arn])},
                reason="every other setting is written back unchanged"
                if len(have.admins) < MAX_ADMINS
                else f"refused: Lake Formation allows at most {MAX_ADMINS} data lake admins",
            )
        ]
    )


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    have = d.observed
    if len(have.admins) >= MAX_ADMINS:
        raise StepFailed(
            f"cannot add {want.admin} to the data lake admins: the account already has "
            f"{len(have.admins)}, and Lake Formation allows at most {MAX_ADMINS}; remove one (Lake Formation "
            "console, Administrative roles) and run deploy again; nothing was changed"
        )
    settings = copy.deepcopy(have.settings)
    settings.setdefault("DataLakeAdmins", []).append({"DataLakePrincipalIdentifier": want.admin.arn})
    ctx.clients.lakeformation.put_data_lake_settings(DataLakeSettings=settings)
    return Outcome("created", [f"added {want.admin} to the data lake admins"])


_ROLE_WITH_PATH = re.compile(r"^arn:([^:]+):iam::(\d{12}):role/(.+)/([^/]+)$")


def principal_hint(admin: str, admins: list[str]) -> str:
    """Why a caller with an IAM path may look absent (doctor and verify say it the same way)."""
    m = _ROLE_WITH_PATH.match(admin)
    if m is None or admin in admins:
        return ""
    pathless = f"arn:{m[1]}:iam::{m[2]}:role/{m[4]}"
    sso = " (an IAM Identity Center (SSO) role)" if m[3].startswith("aws-reserved/sso.amazonaws.com") else ""
    text = (
        f"the caller's role has the IAM path /{m[3]}/{sso}: Lake Formation names it by its full ARN "
        f"{admin}, path included, and refuses the path-less ARN GetCallerIdentity suggests"
    )
    return text + (f"; {pathless}, which is listed, is not that principal" if pathless in admins else "")


def report(have: Observed) -> list[tuple[str, str]]:
    return [("data lake admins", ", ".join(have.admins) or "none")]
