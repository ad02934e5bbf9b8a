"""Lake Formation grants to the stack's Firehose role: DESCRIBE on the namespace, ALL on each table.

The S3 Tables child catalog id (ACCOUNT:s3tablescatalog/BUCKET) goes INSIDE each Resource; the
top-level CatalogId only accepts an account id. Only missing grants are sent, in one batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tasks.errors import StepFailed
from tasks.polling import backoff_delays
from tasks.step import Change, Context, Diff, Outcome
from tasks.steps import lf_permissions
from tasks.steps.catalog import CATALOG_NAME

NAME = "grants"
ROLE_OUTPUT = "FirehoseRoleArn"
PENDING_ROLE = "<FirehoseRoleArn, known once the stack exists>"
# A role CloudFormation just created can be unknown to Lake Formation for a few seconds.
NOT_YET = ("InvalidInputException", "EntityNotFoundException")


@dataclass(frozen=True)
class Grant:
    resource: dict[str, Any]
    permissions: tuple[str, ...]

    @property
    def key(self) -> tuple[str, ...]:
        key = lf_permissions.resource_key(self.resource)
        assert key is not None
        return key

    @property
    def label(self) -> str:
        if "Database" in self.resource:
            return f"database {self.resource['Database']['Name']}"
        return f"table {self.resource['Table']['DatabaseName']}.{self.resource['Table']['Name']}"


@dataclass(frozen=True)
class Desired:
    principal: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Observed:
    principal: str
    held: dict[tuple[str, ...], frozenset[str]]


def child_catalog_id(account_id: str, bucket: str) -> str:
    return f"{account_id}:{CATALOG_NAME}/{bucket}"


def firehose_role(ctx: Context) -> str:
    return str(ctx.results.get("stack_outputs", {}).get(ROLE_OUTPUT) or PENDING_ROLE)


def desired(ctx: Context) -> Desired:
    cfg = ctx.config
    cat = child_catalog_id(ctx.account_id, cfg.table_bucket_name)
    grants = [Grant({"Database": {"CatalogId": cat, "Name": cfg.namespace}}, ("DESCRIBE",))]
    grants += [
        Grant({"Table": {"CatalogId": cat, "DatabaseName": cfg.namespace, "Name": s}}, ("ALL",))
        for s in cfg.signals
    ]
    return Desired(firehose_role(ctx), tuple(grants))


def observe(ctx: Context) -> Observed:
    principal = firehose_role(ctx)
    if principal == PENDING_ROLE:
        return Observed(principal, {})
    resources = [g.resource for g in desired(ctx).grants]
    fresh = bool(ctx.results.get("stack_created"))  # its tables were made in this run: no grant yet
    held = lf_permissions.held_on(ctx, principal, resources, confirm=not fresh)
    return Observed(principal, {k: frozenset(p) for k, (p, _) in held.items()})


def diff(want: Desired, have: Observed) -> Diff:
    changes = []
    for grant in want.grants:
        has = have.held.get(grant.key, frozenset())
        need = lf_permissions.missing(set(grant.permissions), set(has))
        if need:
            changes.append(
                Change(
                    "create",
                    f"lake formation grant {','.join(grant.permissions)} on {grant.label} "
                    f"to {want.principal}",
                    {"Permissions": (sorted(has), list(grant.permissions))},
                )
            )
    return Diff(changes)


def missing_grants(want: Desired, have: Observed) -> list[Grant]:
    return [
        g
        for g in want.grants
        if lf_permissions.missing(set(g.permissions), set(have.held.get(g.key, frozenset())))
    ]


def apply(ctx: Context, d: Diff) -> Outcome:
    want: Desired = d.desired
    if want.principal == PENDING_ROLE:
        # Deploy evaluated this step before the stack existed (doit -a or a plan-only run).
        want = desired(ctx)
    if want.principal == PENDING_ROLE:
        raise StepFailed(
            f"error: stack {ctx.config.stack_name} has no {ROLE_OUTPUT} output: run `doit deploy` "
            "again once the stack is complete"
        )
    todo = missing_grants(want, d.observed) if d.observed.principal == want.principal else list(want.grants)
    entries = [
        {
            "Id": str(i),
            "Principal": {"DataLakePrincipalIdentifier": want.principal},
            "Resource": g.resource,
            "Permissions": list(g.permissions),
        }
        for i, g in enumerate(todo)
    ]
    delays = backoff_delays(60.0, first=0.5)
    while entries:
        failures = ctx.clients.lakeformation.batch_grant_permissions(Entries=entries).get("Failures", [])
        failed_ids = {f["RequestEntry"]["Id"] for f in failures if f.get("RequestEntry")}
        codes = {f.get("Error", {}).get("ErrorCode", "") for f in failures}
        entries = [e for e in entries if e["Id"] in failed_ids]
        if not entries:
            break
        delay = next(delays, None)
        if not codes <= set(NOT_YET) or delay is None:
            first = failures[0].get("Error", {})
            raise StepFailed(
                f"error: Lake Formation refused {len(entries)} grant(s) to {want.principal}: "
                f"{first.get('ErrorCode')}: {first.get('ErrorMessage', '')}"
            )
        time.sleep(delay)
    ctx.forget(lf_permissions.MEMO_KEY)
    return Outcome("created", [f"granted {', '.join(g.permissions)} on {g.label}" for g in todo])


def report(have: Observed) -> list[tuple[str, str]]:
    if have.principal == PENDING_ROLE:
        return [("firehose role grants", "stack missing")]
    return [(f"grant {' '.join(k[2:])}", ", ".join(sorted(p))) for k, p in sorted(have.held.items())]
