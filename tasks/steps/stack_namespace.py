"""A namespace that exists already, taken into the stack instead of created (a change of `namespace` back).

Changing `namespace` replaces the stack's `Namespace` resource (`Namespace` is create-only): CloudFormation
creates the new one and keeps the old one (UpdateReplacePolicy Retain) with its tables. Changing it back
would have CloudFormation create a namespace that exists, which S3 Tables refuses (ConflictException), and
the update would roll back. So when the namespace the config names exists already and the stack does not
hold it, the stack step takes it back, in up to three change sets:

1. an update of the deployed template without its `Namespace` resource: CloudFormation removes it from the
   stack and, as its DeletionPolicy says (RetainExceptOnCreate; Retain is added first by an update of its
   own if the deployed template lacks it), keeps it, tables and all (S3 Tables would refuse to delete a
   namespace that holds tables anyway, and the update would end with the resource's DELETE_FAILED);
2. an IMPORT of the existing namespace under the logical id `Namespace`, as the new template describes it,
   found by its identifier (bucket ARN, namespace); nothing else of the stack changes in an import;
3. the new template, as any update: the stack's namespace now equals the wanted one, nothing is replaced.

A run that stops between them is picked up by the next: a stack without `Namespace` skips the first. Plan
names it on the Namespace line. Observe reads one GetNamespace, and only when the deployed namespace is not
the wanted one (never on a converged env); the tables it counts come from the run's one ListTables.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lake import cfn_schemas
from tasks.errors import error_code
from tasks.stack_diff import KEPT
from tasks.step import Change
from tasks.steps.stack_state import Desired, Observed, TakeBack, run_change_set

if TYPE_CHECKING:
    from tasks.step import Context

LOGICAL = "Namespace"
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def namespace_of(template: dict[str, Any] | None) -> str | None:
    """The namespace a template's `Namespace` resource names (None: it has none, or not a plain name)."""
    body = ((template or {}).get("Resources") or {}).get(LOGICAL)
    value = ((body or {}).get("Properties") or {}).get("Namespace") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def to_check(want: dict[str, Any], deployed: dict[str, Any]) -> str | None:
    """The wanted namespace, when the deployed template does not hold it: it may exist already."""
    wanted = namespace_of(want)
    return wanted if wanted is not None and namespace_of(deployed) != wanted else None


def observe(ctx: Context, want: dict[str, Any], deployed: dict[str, Any]) -> TakeBack | None:
    """The wanted namespace, when it exists outside the stack (GetNamespace), with the tables of both."""
    from tasks.steps import table_listing
    from tasks.steps.tables import bucket_arn

    wanted = to_check(want, deployed)
    if wanted is None:
        return None
    try:
        ctx.clients.s3tables.get_namespace(tableBucketARN=bucket_arn(ctx), namespace=wanted)
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise
    listing = table_listing.bucket_tables(ctx) or {}
    leaving = namespace_of(deployed) or ""
    return TakeBack(wanted, len(listing.get(wanted, [])), leaving, len(listing.get(leaving, [])))


def reason(back: TakeBack) -> str:
    out = (
        f"namespace {back.namespace} exists already (kept, {back.tables} tables): taken back into the stack, "
        "not created"
    )
    if back.leaving:
        out += f"; namespace {back.leaving} leaves the stack, kept with its {back.leaving_tables} tables"
    return out


def stack_reason(back: TakeBack, counts: str) -> str:
    if back.leaving:
        return (
            f"three change sets: the first takes namespace {back.leaving} out of the stack (kept), the "
            f"second imports the existing namespace {back.namespace}, the third applies the rest ({counts})"
        )
    return (
        f"two change sets: the first imports the existing namespace {back.namespace}, the second applies the "
        f"rest ({counts})"
    )


def with_take_back(changes: list[Change], back: TakeBack) -> list[Change]:
    """The stack diff's replace (or create) of `Namespace`, said as what it is: nothing created or lost."""
    out = []
    for change in changes:
        if change.resource == f"AWS::S3Tables::Namespace {LOGICAL}":
            change = dataclasses.replace(change, reason=reason(back), loses="", consent="")
        out.append(change)
    return out


def refusal(deployed: dict[str, Any], back: TakeBack, holds_tables: bool) -> str:
    """Why the take-back cannot run on this stack ("" when it can)."""
    others = [
        lid
        for lid, body in (deployed.get("Resources") or {}).items()
        if lid != LOGICAL and LOGICAL in cfn_schemas.refs(body)
    ]
    if holds_tables or others:
        what = "tables" if holds_tables else ", ".join(sorted(others))
        return (
            f"error: namespace={back.namespace} exists already and the stack would take it back, but the "
            f"stack still holds {what} referring to namespace {back.leaving}: deploy "
            f"namespace={back.leaving} first (it moves them out of the stack), then "
            f"namespace={back.namespace}"
        )
    return ""


def without(deployed: dict[str, Any]) -> dict[str, Any]:
    """The deployed template without its `Namespace` resource."""
    out = copy.deepcopy(deployed)
    out["Resources"].pop(LOGICAL, None)
    return out


def take_back(ctx: Context, want: Desired, have: Observed) -> list[str]:
    """Change sets 1 and 2: the stack's namespace out (kept), the existing one in; the caller runs the 3rd."""
    from tasks.steps.tables import bucket_arn

    back = have.taking_back
    assert back is not None and have.template is not None
    deployed = have.template
    details = []

    def run(body: dict[str, Any], kind: str, to_import: list[dict[str, Any]] | None = None) -> None:
        step = Desired(want.stack_name, json.dumps(body), body, have.parameters, have.tags)
        run_change_set(ctx, step, kind, to_import)

    if LOGICAL in (deployed.get("Resources") or {}):
        held = deployed["Resources"][LOGICAL]
        if held.get("DeletionPolicy") not in KEPT:
            ctx.say(f"  stack: keeping namespace {back.leaving} on removal (DeletionPolicy Retain)")
            deployed = copy.deepcopy(deployed)
            deployed["Resources"][LOGICAL] = {**held, **RETAIN}
            run(deployed, "UPDATE")
        ctx.say(f"  stack: taking namespace {back.leaving} out of the stack, kept with its tables")
        run(without(deployed), "UPDATE")
        details.append(f"namespace {back.leaving} left the stack, kept with its {back.leaving_tables} tables")
    body = without(deployed)
    body["Resources"][LOGICAL] = copy.deepcopy(want.template["Resources"][LOGICAL])
    identifier = {"TableBucketARN": bucket_arn(ctx), "Namespace": back.namespace}
    ctx.say(f"  stack: importing the existing namespace {back.namespace}")
    run(
        body,
        "IMPORT",
        [
            {
                "ResourceType": "AWS::S3Tables::Namespace",
                "LogicalResourceId": LOGICAL,
                "ResourceIdentifier": identifier,
            }
        ],
    )
    details.append(f"took the existing namespace {back.namespace} back into the stack ({back.tables} tables)")
    return details
