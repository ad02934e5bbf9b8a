"""Doctor's checks, one per cause the bash scripts' Troubleshooting section lists (tasks/doctor/entries.py).

Each reads through a deploy step's observe()/diff() (tasks/steps/); what is added here is only the
doctor's reading: which troubleshooting entry a difference belongs to, and which command fixes it.
Never writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from botocore.exceptions import ClientError

from tasks.doctor.entries import (
    ENTRY_APPEND_ONLY,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_FIREHOSE_ROLE_POLICY,
    ENTRY_GLUE_PERMISSIONS,
    ENTRY_STACK,
    Finding,
    deploy_command,
)
from tasks.errors import error_code
from tasks.step import Context, Diff
from tasks.steps import all_steps, lf_admins, lf_role
from tasks.steps import catalog as catalog_step

# -- the checks ------------------------------------------------------------------------------------
# Each reads through a deploy step's observe()/diff() (tasks/steps/); what is added here is only the
# doctor's reading: which troubleshooting entry a difference belongs to, and which command fixes it.

ACCESS_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException")
IAM_PROPAGATION_S = 15  # the setup guide: "wait 10-15 seconds after role creation/update"
STS_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext")
LF_SERVICE = "lakeformation.amazonaws.com"


@dataclass
class Evaluated:
    """A step's desired, observed and diff, read once per doctor run."""

    desired: Any
    observed: Any
    diff: Diff[Any, Any]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def missing_sts_actions(trust: dict[str, Any] | None) -> list[str]:
    """STS actions of the bash scripts' setup that the trust policy does not allow Lake Formation."""
    allowed: set[str] = set()
    for st in _as_list((trust or {}).get("Statement", [])):
        services = _as_list((st.get("Principal") or {}).get("Service", []))
        if st.get("Effect") == "Allow" and LF_SERVICE in services:
            allowed.update(str(a) for a in _as_list(st.get("Action", [])))
    return [a for a in STS_ACTIONS if not any(fnmatchcase(a, p) for p in allowed)]


def _policy_actions(policy: dict[str, Any] | None) -> set[str]:
    return {
        str(a)
        for st in _as_list((policy or {}).get("Statement", []))
        if st.get("Effect") == "Allow"
        for a in _as_list(st.get("Action", []))
    }


def missing_actions(want: dict[str, Any], have: dict[str, Any] | None) -> list[str]:
    held = _policy_actions(have)
    return sorted(
        a for a in _policy_actions(want) if not any(fnmatchcase(a.lower(), p.lower()) for p in held)
    )


def _fields(d: Diff[Any, Any]) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    for change in d.changes:
        out.update(change.fields)
    return out


def _changes_text(d: Diff[Any, Any]) -> str:
    return "; ".join(
        f"{c.action} {c.resource}" + (f" ({', '.join(c.fields)})" if c.fields else "") for c in d.changes
    )


class Doctor:
    """Runs the checks in the bash scripts' order; each yields Findings. Read-only."""

    def __init__(self, ctx: Context, overrides: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.overrides = overrides
        self.found: list[Finding] = []  # every finding so far, for the alarms' causes
        self.deploy = deploy_command(ctx.config, overrides)
        self.repair = deploy_command(ctx.config, overrides, repair=True)
        self._cache: dict[str, Evaluated] = {}
        self._steps = {step.name: step for step in all_steps(ctx.config)}

    def step(self, name: str) -> Evaluated:
        """The deploy step's own observe + diff (Step.evaluate), read once per doctor run."""
        if name not in self._cache:
            d = self._steps[name].evaluate(self.ctx)
            self._cache[name] = Evaluated(d.desired, d.observed, d)
        return self._cache[name]

    def finding(self, entry: str, cause: str, ok: bool, found: str = "", fix: str = "") -> Finding:
        return Finding(entry, cause, ok, found, fix or self.deploy)

    # "Insufficient Glue permissions to access database" ---------------------------------------------
    def glue_permissions(self) -> Iterator[Finding]:
        e = ENTRY_GLUE_PERMISSIONS
        role, res, cat = self.step("lf_role"), self.step("lf_resource"), self.step("catalog")
        missing = []
        if not role.observed.exists:
            missing.append(f"role {role.desired.role_name} missing")
        if not res.observed.registered:
            missing.append("S3 Tables resource not registered with Lake Formation")
        if cat.observed.catalog is None:
            missing.append("catalog s3tablescatalog missing")
        yield self.finding(
            e,
            "S3 Tables integration set up (LF role, registration, s3tablescatalog)",
            not missing,
            "; ".join(missing),
        )
        admins = self.step("lf_admins")
        hint = lf_admins.principal_hint(admins.desired.admin.arn, admins.observed.admins)
        yield self.finding(
            e,
            f"caller {admins.desired.admin} is a Lake Formation data lake admin",
            admins.diff.empty,
            f"data lake admins are {admins.observed.admins or 'none'}" + (f"; {hint}" if hint else ""),
        )
        grant = self.step("catalog_grant")
        want_perms = sorted(set(grant.desired.permissions) - grant.observed.permissions)
        want_grant = sorted(set(grant.desired.grantable) - grant.observed.grantable)
        yield self.finding(
            e,
            f"caller has permissions on {grant.desired.resource['Catalog']['Id']}",
            grant.diff.empty,
            f"holds {sorted(grant.observed.permissions) or 'nothing'}; missing {want_perms}"
            + (f", missing grant option on {want_grant}" if want_grant else ""),
        )

    # "Unable to assume role" / "Unable to retrieve credentials from Lake Formation" -----------------
    def assume_role(self) -> Iterator[Finding]:
        e = ENTRY_ASSUME_ROLE
        role = self.step("lf_role")
        name = role.desired.role_name
        fields = _fields(role.diff)
        if not role.observed.exists:
            yield self.finding(e, f"role {name} exists", False, f"role {name} does not exist")
            return
        sts_missing = missing_sts_actions(role.observed.trust)
        trust_ok = "trust" not in fields
        found = (
            f"trust policy lacks {', '.join(sts_missing)}"
            if sts_missing
            else "trust policy differs from the template"
        )
        yield self.finding(e, f"{name} trust policy has {', '.join(STS_ACTIONS)}", trust_ok, found)
        policy_fields = [k for k in fields if k.startswith("policy")]
        lacking = missing_actions(role.desired.policy, role.observed.policy)
        found = (
            f"inline policy {policy_fields[0].split(' ', 1)[-1]} missing"
            if role.observed.policy is None
            else f"policy lacks {', '.join(lacking)}"
            if lacking
            else lf_role.region_hint(role.observed.policy) or "policy differs from the template"
        )
        yield self.finding(e, f"{name} has the s3tables permissions", not policy_fields, found)
        yield self.finding(e, f"role {name} exists{self._role_age(name)}", True)
        res = self.step("lf_resource")
        if not res.observed.registered:
            yield self.finding(
                e,
                "S3 Tables resource registered with Lake Formation with federation",
                False,
                f"{res.desired.resource_arn} is not registered",
            )
        else:
            ok = not res.diff.changes and not res.diff.notes
            yield self.finding(
                e,
                "S3 Tables resource registered with Lake Formation with federation",
                ok,
                f"{res.desired.resource_arn} is registered with role {res.observed.role_arn}, "
                f"WithFederation={res.observed.with_federation}, "
                f"WithPrivilegedAccess={res.observed.with_privileged_access}; expected role "
                f"{res.desired.role_arn}, both true (re-registering affects every user of the account)",
                self.repair,
            )

    def _role_age(self, name: str) -> str:
        """IAM eventual consistency: a role younger than IAM_PROPAGATION_S may not work everywhere yet."""
        created = self.ctx.clients.iam.get_role(RoleName=name)["Role"].get("CreateDate")
        if not isinstance(created, datetime):
            return ""
        age = (datetime.now(UTC) - created).total_seconds()
        if age < IAM_PROPAGATION_S:
            return f" (created {age:.0f} s ago: IAM needs 10-15 s to propagate it; re-run doctor then)"
        return ""

    # "Catalog not found" ------------------------------------------------------------------------------
    def catalog(self) -> Iterator[Finding]:
        cat = self.step("catalog")
        if cat.observed.catalog is None:
            found = "Glue catalog s3tablescatalog does not exist"
        else:
            found = "s3tablescatalog differs: " + ", ".join(
                f"{k} is {o!r}, expected {w!r}" for k, (o, w) in _fields(cat.diff).items()
            )
        yield self.finding(
            ENTRY_CATALOG_NOT_FOUND,
            "catalog s3tablescatalog exists, federated to "
            + cat.desired.catalog_input["FederatedCatalog"]["Identifier"],
            cat.diff.empty,
            found,
        )
        mode = catalog_step.iam_mode(cat.observed.catalog or {})
        if mode:  # a choice of the account's, not drift: shown, fixed only when asked
            yield self.finding(
                ENTRY_CATALOG_NOT_FOUND,
                f"s3tablescatalog is in {mode}; deploy leaves it, `{self.repair}` switches it to Lake "
                "Formation mode",
                True,
            )

    # the stack the grants and streams hang off ------------------------------------------------------
    def stack(self) -> Iterator[Finding]:
        st = self.step("stack")
        have = st.observed
        ok = bool(
            have.exists
            and have.status
            and have.status.endswith("_COMPLETE")
            and "ROLLBACK" not in have.status
        )
        found = (
            f"stack {self.config.stack_name} does not exist"
            if not have.exists
            else f"stack {self.config.stack_name} is {have.status}: {have.reason or ''}".rstrip(": ")
        )
        yield self.finding(ENTRY_STACK, f"stack {self.config.stack_name} is in a *_COMPLETE state", ok, found)

    # Firehose stream shows "AppendOnly: false" ------------------------------------------------------
    def append_only(self) -> Iterator[Finding]:
        from tasks.steps import stream_step_name

        for signal in self.config.signals:
            st = self.step(stream_step_name(signal))
            want, have = st.desired, st.observed
            cause = f"stream {want.name} exists with AppendOnly: true"
            if not have.exists:
                yield self.finding(ENTRY_APPEND_ONLY, cause, False, f"stream {want.name} does not exist")
                continue
            append_only = have.fields.get("AppendOnly")
            if append_only is None:  # not returned by DescribeDeliveryStream: unknown, not false
                yield self.finding(
                    ENTRY_APPEND_ONLY,
                    f"stream {want.name} exists; AppendOnly unknown (DescribeDeliveryStream does not "
                    "return it), so deploy keeps it",
                    True,
                )
                continue
            yield self.finding(
                ENTRY_APPEND_ONLY,
                cause,
                append_only is True,
                f"stream {want.name} shows AppendOnly: {str(append_only).lower()} ({have.status}); "
                "deploy turns AppendOnly on in place (UpdateDestination); only if AWS refused that would "
                "it re-create the stream, losing what it buffers",
            )

    # LakeFormation grants to the Firehose role ------------------------------------------------------
    def firehose_grants(self) -> Iterator[Finding]:
        if not self.ctx.facts.firehose_role_arn:
            yield self.finding(
                ENTRY_FIREHOSE_GRANTS,
                "Firehose role grants (DESCRIBE on database, ALL on tables)",
                False,
                "the stack has no FirehoseRoleArn output, so no role to check",
            )
            return
        from tasks.steps import lf_permissions

        g = self.step("grants")
        for grant in g.desired.grants:
            has = set(g.observed.held.get(grant.key, frozenset()))
            need = lf_permissions.missing(set(grant.permissions), has)
            yield self.finding(
                ENTRY_FIREHOSE_GRANTS,
                f"Firehose role has {','.join(grant.permissions)} on {grant.label}",
                not need,
                f"grant missing: {','.join(sorted(need))} on {grant.label} to {g.desired.principal} "
                f"(holds {sorted(has) or 'nothing'})",
            )

    # the Firehose role's IAM policy ---------------------------------------------------------------
    def firehose_role_policy(self) -> Iterator[Finding]:
        role = self.step("firehose_role")  # Firehose evaluates it at every delivery
        yield self.finding(
            ENTRY_FIREHOSE_ROLE_POLICY,
            "Firehose role's inline IAM policy is the stack template's",
            role.diff.empty,
            "; ".join(f"{c.resource}: {c.reason}" for c in role.diff.changes),
        )

    # the ingest function: its secret and its streams (tasks/doctor/ingest.py) -------------------------
    def ingest_function(self) -> Iterator[Finding]:
        from tasks.doctor.ingest import ENTRY_INGEST, run_checks

        self.step("stack")  # publishes the stack's outputs (the function's name, the secret's ARN)
        for check in run_checks(self.ctx):
            yield self.finding(ENTRY_INGEST, check.cause, check.ok, check.found, check.fix)

    # retention: its function, role and schedule (tasks/doctor/retention.py) --------------------------
    def retention(self) -> Iterator[Finding]:
        from tasks.doctor.retention import ENTRY_RETENTION, run_checks

        if not self.config.retention_enabled:
            return
        self.step("stack")  # publishes the stack's outputs (the function's name)
        role = self.step("retention_role")
        yield self.finding(
            ENTRY_RETENTION,
            "retention function role's inline IAM policy is the stack template's",
            role.diff.empty,
            "; ".join(f"{c.resource}: {c.reason}" for c in role.diff.changes),
        )
        for check in run_checks(self.ctx):
            yield self.finding(ENTRY_RETENTION, check.cause, check.ok, check.found, check.fix)

    # the stack's alarms: each in ALARM mapped to a cause found above (tasks/doctor/alarms.py) -----------
    def alarms(self) -> Iterator[Finding]:
        from tasks.doctor.alarms import findings

        yield from findings(self.ctx, self.found, self.overrides)

    def findings(self) -> Iterator[Finding]:
        from tasks.doctor.alarms import ENTRY_ALARMS
        from tasks.doctor.ingest import ENTRY_INGEST
        from tasks.doctor.retention import ENTRY_RETENTION

        checks = (
            (ENTRY_GLUE_PERMISSIONS, self.glue_permissions),
            (ENTRY_ASSUME_ROLE, self.assume_role),
            (ENTRY_CATALOG_NOT_FOUND, self.catalog),
            (ENTRY_STACK, self.stack),
            (ENTRY_APPEND_ONLY, self.append_only),
            (ENTRY_FIREHOSE_GRANTS, self.firehose_grants),
            (ENTRY_FIREHOSE_ROLE_POLICY, self.firehose_role_policy),
            (ENTRY_INGEST, self.ingest_function),
            (ENTRY_RETENTION, self.retention),
            (ENTRY_ALARMS, self.alarms),  # last: it reads the findings before it
        )
        for entry, check in checks:
            try:
                for finding in check():
                    self.found.append(finding)
                    yield finding
            except ClientError as exc:
                # A read the caller may not make is itself a finding (often the very cause); anything
                # else is an error of the run and goes to cli_action.
                if error_code(exc) not in ACCESS_DENIED:
                    raise
                yield Finding(
                    entry,
                    f"{exc.operation_name} can be read",
                    False,
                    f"{exc.operation_name} refused: {error_code(exc)}",
                    "re-run with credentials of an account administrator (profile=NAME)",
                )
