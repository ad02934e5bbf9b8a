"""What the stack moves out and in: the tables an old stack holds (out, kept), and a kept bucket (in).

Envs whose stack still holds its Iceberg tables (`AWS::S3Tables::Table`, no DeletionPolicy) move them out.

An update that only drops a table from the template would delete it with its rows. So the stack step makes
two updates (tasks/steps/stack.py): the first applies the new template plus the deployed table resources,
copied verbatim from GetTemplate with `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain` added
(nothing else of theirs changes, so CloudFormation touches no table); the second applies the new template,
and CloudFormation removes the tables from the stack and, as their DeletionPolicy says, keeps them. The
tables steps then own them (and evolve their schema, e.g. `int` to `long`). No manual step; plan shows the
move per table with its rows. A run that stops between the two updates is picked up by the next: the
deployed tables then already carry Retain, and the first update finds nothing to change.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Change
from tasks.steps.stack_state import Desired, Observed, run_change_set

if TYPE_CHECKING:
    from tasks.step import Context

TABLE_TYPE = "AWS::S3Tables::Table"
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def held_tables(deployed: dict[str, Any]) -> dict[str, str]:
    """Logical id -> table name of every table resource the deployed template holds."""
    out = {}
    for logical, body in (deployed.get("Resources") or {}).items():
        if body.get("Type") == TABLE_TYPE:
            out[logical] = str((body.get("Properties") or {}).get("TableName", logical))
    return out


def interim(new: dict[str, Any], deployed: dict[str, Any]) -> dict[str, Any]:
    """The first update's template: the new one plus the deployed tables, verbatim, kept on removal."""
    out = copy.deepcopy(new)
    for logical in held_tables(deployed):
        out["Resources"][logical] = {**copy.deepcopy(deployed["Resources"][logical]), **RETAIN}
    return out


def as_kept(deployed: dict[str, Any]) -> dict[str, Any]:
    """The deployed template as the move's first update leaves it: its tables kept on removal."""
    return interim(deployed, deployed)


def move_reason(name: str, figures: str) -> str:
    return f"move table {name} out of the stack: kept, {figures}"


def with_moves(changes: list[Change], deployed: dict[str, Any], figures: dict[str, str]) -> list[Change]:
    """The stack diff's removal of each held table, said as what it is: a move out, the table kept."""
    held = held_tables(deployed)
    out = []
    for change in changes:
        lid = change.resource.removeprefix(f"{TABLE_TYPE} ")
        if change.resource.startswith(f"{TABLE_TYPE} ") and change.action == "delete" and lid in held:
            name = held[lid]
            change = dataclasses.replace(change, reason=move_reason(name, figures.get(name, "")))
        out.append(change)
    return out


# -- a kept table bucket, imported ----------------------------------------------------------------------
#
# The stack keeps the table bucket and its namespace when it goes (DeletionPolicy), tables and all. A stack
# deleted out of band therefore leaves them, and a new stack could not create a bucket of that name. So the
# new stack is made by importing them (a change set of type IMPORT: the two resources, found by their
# identifiers), then the rest of the template is an update. Nothing of the bucket changes on the way.

IMPORTED = ("TableBucket", "Namespace")


def kept_bucket(ctx: Context) -> dict[str, Any]:
    """`kept_bucket` (the env's table bucket ARN, when it exists) and `kept_namespace` (whether the env's
    namespace exists in it): GetTableBucket, and GetNamespace only when the bucket is there."""
    from tasks.steps.tables import bucket_arn

    arn = bucket_arn(ctx)
    s3t = ctx.clients.s3tables
    try:
        s3t.get_table_bucket(tableBucketARN=arn)
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return {"kept_bucket": None, "kept_namespace": False}
        raise
    try:
        s3t.get_namespace(tableBucketARN=arn, namespace=ctx.config.namespace)
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return {"kept_bucket": arn, "kept_namespace": False}
        raise
    return {"kept_bucket": arn, "kept_namespace": True}


def import_reason(have: Observed) -> str:
    if not have.kept_bucket:
        return ""
    what = f"table bucket {have.kept_bucket.rsplit('/', 1)[-1]}" + (
        " and its namespace" if have.kept_namespace else ""
    )
    return f"import the kept {what}, with their tables, then create the rest"


def import_kept(ctx: Context, want: Desired, have: Observed) -> str:
    """A new stack of the kept bucket (and namespace), imported, as the template describes them."""
    assert have.kept_bucket is not None
    logical = [n for n in IMPORTED if n != "Namespace" or have.kept_namespace]
    body = {
        "AWSTemplateFormatVersion": want.template.get("AWSTemplateFormatVersion", "2010-09-09"),
        "Description": want.template.get("Description", ""),
        "Resources": {n: want.template["Resources"][n] for n in logical},
    }
    identifiers = {
        "TableBucket": {"TableBucketARN": have.kept_bucket},
        "Namespace": {"TableBucketARN": have.kept_bucket, "Namespace": ctx.config.namespace},
    }
    types = {n: want.template["Resources"][n]["Type"] for n in logical}
    to_import = [
        {"ResourceType": types[n], "LogicalResourceId": n, "ResourceIdentifier": identifiers[n]}
        for n in logical
    ]
    ctx.say(f"  stack: importing the kept {' and '.join(logical)} ({have.kept_bucket})")
    run_change_set(ctx, Desired(want.stack_name, json.dumps(body), body, {}, want.tags), "IMPORT", to_import)
    return f"imported the kept {' and '.join(logical)} ({have.kept_bucket}) into the new stack"
