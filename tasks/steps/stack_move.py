"""Envs whose stack still holds its Iceberg tables (`AWS::S3Tables::Table`, no DeletionPolicy) move them out.

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
from typing import Any

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


def move_reason(name: str, figures: str) -> str:
    return f"move table {name} out of the stack: kept, {figures}"
