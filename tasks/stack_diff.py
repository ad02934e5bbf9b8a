"""The stack's diff, resource by resource and property by property: the deployed template (GetTemplate)
against the rendered one. Pure: no AWS call, no file read; what it needs from outside comes as data.

Each resource that changes is one Change, labelled `TYPE LOGICAL_ID`, whose fields are paths such as
`FirehoseRole.Properties.Policies[0].PolicyDocument.Statement[2]` (and `TracesTable.DeletionPolicy`, ...).
Its action is "replace" where CloudFormation replaces the resource: a create-only property of the type's
resource schema changes (`create_only`, read in the step's observe from lake/cfn_schemas.py), its type
changes, or a create-only property refers to a resource that is replaced or a parameter that changes.
A replaced resource that keeps its custom name fails the update ("CloudFormation cannot update a stack
when a custom-named resource requires replacing"), and the reason says so.

A delete or replace of something that holds data (the table bucket, a namespace, a table, a bucket with
objects) sets `loses` and `consent`, unless the old resource is kept (DeletionPolicy / UpdateReplacePolicy
Retain).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lake import cfn_schemas
from tasks.step import Action, Change

Path = tuple[str | int, ...]
CreateOnly = Mapping[str, tuple[tuple[str, ...], ...]]  # resource type -> property paths ("*": any index)


class _Absent:
    """A key one template lacks (shown as null); distinct from an explicit null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
KEPT = ("Retain", "RetainExceptOnCreate")  # the policies that leave the old resource (and its data) in place
ACTION_ORDER: dict[str, int] = {"replace": 0, "delete": 1, "update": 2, "create": 3}
CUSTOM_NAME_FAILS = "CloudFormation cannot update a stack when a custom-named resource requires replacing"

# -- paths ------------------------------------------------------------------------------------------


def label(path: Path) -> str:
    """("Role", "Properties", "Policies", 0) -> "Role.Properties.Policies[0]"; "*" (any index) -> "[*]"."""
    return "".join(f"[{p}]" if isinstance(p, int) or p == "*" else f".{p}" for p in path).lstrip(".")


def _intrinsic(value: Any) -> bool:
    """{"Ref": ...} or {"Fn::...": ...}: shown whole, never split into its own keys."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _sub(value: Any) -> bool:
    return _intrinsic(value) and isinstance(value.get("Fn::Sub"), str)


def _tags(value: Any) -> dict[str, Any] | None:
    """A CloudFormation Tags list ([{Key, Value}]) as a mapping, so a new tag is one field, not a shift."""
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and set(t) == {"Key", "Value"} for t in value
    ):
        return None
    return {str(t["Key"]): t["Value"] for t in value}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def leaves(old: Any, new: Any, path: Path = ()) -> list[tuple[Path, Any, Any]]:
    """Every place where `old` and `new` differ: (path, old value, new value), ABSENT where one lacks it."""
    if old == new:
        return []
    if _sub(old) and _sub(new):  # the two strings, each shown whole (a cut ARN names nothing)
        return [((*path, "Fn::Sub"), old["Fn::Sub"], new["Fn::Sub"])]
    if isinstance(old, dict) and isinstance(new, dict) and not (_intrinsic(old) or _intrinsic(new)):
        keys = [*old, *(k for k in new if k not in old)]
        return [c for k in keys for c in leaves(old.get(k, ABSENT), new.get(k, ABSENT), (*path, k))]
    if isinstance(old, list) and isinstance(new, list):
        old_tags, new_tags = _tags(old), _tags(new)
        if old_tags is not None and new_tags is not None and path[-1:] == ("Tags",):
            return leaves(old_tags, new_tags, path)
        if len(old) == len(new):
            return [
                c for i, (o, n) in enumerate(zip(old, new, strict=True)) for c in leaves(o, n, (*path, i))
            ]
        return _list_changes(old, new, path)
    return [(path, old, new)]


def _list_changes(old: list[Any], new: list[Any], path: Path) -> list[tuple[Path, Any, Any]]:
    """Lists of different lengths: items inserted or removed by index, the rest compared in place."""
    out: list[tuple[Path, Any, Any]] = []
    matcher = difflib.SequenceMatcher(a=[_canon(x) for x in old], b=[_canon(x) for x in new], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                out += leaves(old[i1 + k], new[j1 + k], (*path, j1 + k))
            continue
        out += [((*path, i), old[i], ABSENT) for i in range(i1, i2)]
        out += [((*path, j), ABSENT, new[j]) for j in range(j1, j2)]
    return out


def _value(value: Any) -> Any:
    return None if value is ABSENT else value


def _matches(prop_path: Path, pointer: tuple[str, ...]) -> bool:
    """A changed property path lies under a create-only pointer, or holds one ("*" matches any index)."""
    return all(p == "*" or str(p) == str(q) for p, q in zip(pointer, prop_path, strict=False))


def _at(value: Any, pointer: tuple[str, ...]) -> Any:
    """The value at a create-only pointer; "*" collects every list item's."""
    if not pointer:
        return value
    head, rest = pointer[0], pointer[1:]
    if head == "*":
        return [_at(v, rest) for v in value] if isinstance(value, list) else ABSENT
    if isinstance(value, dict) and head in value:
        return _at(value[head], rest)
    return ABSENT


# -- resources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contents:
    """What a bucket that would be deleted or replaced holds (read by the step's observe)."""

    bucket: str
    versions: int
    truncated: bool = False  # one page read: at least `versions`

    def describe(self) -> str:
        more = "+" if self.truncated else ""
        return f"bucket {self.bucket}: {self.versions:,}{more} object version(s)"


def _body(resource: Any) -> dict[str, Any]:
    """A resource as compared: DependsOn as a sorted list ("A" and ["A"] are the same to CloudFormation)."""
    body = dict(resource) if isinstance(resource, dict) else {}
    depends = body.get("DependsOn")
    if depends is not None:
        body["DependsOn"] = sorted([depends] if isinstance(depends, str) else depends)
    return body


def _props(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("Properties")
    return props if isinstance(props, dict) else {}


@dataclass
class _Verdict:
    """One resource's change while the diff is worked out."""

    lid: str
    type: str
    action: Action
    changes: list[tuple[Path, Any, Any]]
    why: list[str] = field(default_factory=list)  # why it is replaced
    forced: list[tuple[str, ...]] = field(default_factory=list)  # create-only property paths that changed


def _forced(
    rtype: str, old: dict[str, Any], new: dict[str, Any], create_only: CreateOnly
) -> list[tuple[str, ...]]:
    return [p for p in create_only.get(rtype, ()) if _at(_props(old), p) != _at(_props(new), p)]


def _verdicts(
    want: dict[str, Any], have: dict[str, Any], create_only: CreateOnly, changed_params: set[str]
) -> dict[str, _Verdict]:
    w_res, h_res = want.get("Resources") or {}, have.get("Resources") or {}
    out: dict[str, _Verdict] = {}
    for lid in [*h_res, *(k for k in w_res if k not in h_res)]:
        old, new = _body(h_res.get(lid)), _body(w_res.get(lid))
        if lid not in w_res:
            out[lid] = _Verdict(lid, str(old.get("Type", "")), "delete", [])
            continue
        if lid not in h_res:
            out[lid] = _Verdict(lid, str(new.get("Type", "")), "create", [])
            continue
        verdict = _Verdict(lid, str(new.get("Type", "")), "update", leaves(old, new, (lid,)))
        if old.get("Type") != new.get("Type"):
            verdict.action = "replace"
            verdict.why.append(f"its type changes from {old.get('Type')} to {new.get('Type')}")
        verdict.forced = _forced(verdict.type, old, new, create_only)
        if verdict.forced:
            verdict.action = "replace"
            names = ", ".join(label(tuple(p)) for p in verdict.forced)
            verdict.why.append(f"{names} {'is' if len(verdict.forced) == 1 else 'are'} create-only")
        out[lid] = verdict
    _cascade(out, w_res, create_only, changed_params)
    return {lid: v for lid, v in out.items() if v.action != "update" or v.changes or v.why}


def _cascade(
    verdicts: dict[str, _Verdict], w_res: dict[str, Any], create_only: CreateOnly, changed_params: set[str]
) -> None:
    """A create-only property that refers to a replaced resource (its id or ARN changes) or to a parameter
    whose value changes is a changed create-only property too: that resource is replaced as well."""
    moved = True
    while moved:
        moved = False
        replaced = {lid for lid, v in verdicts.items() if v.action == "replace"}
        for lid, verdict in verdicts.items():
            if verdict.action != "update":
                continue
            props = _props(_body(w_res.get(lid)))
            for pointer in create_only.get(verdict.type, ()):
                hit = sorted(cfn_schemas.refs(_at(props, pointer)) & (replaced | changed_params))
                if hit:
                    verdict.action = "replace"
                    what = "is replaced" if hit[0] in replaced else "changes"
                    verdict.why.append(
                        f"{label(tuple(pointer))} (create-only) refers to {hit[0]}, which {what}"
                    )
                    moved = True
                    break


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else _canon(value)


def custom_name(rtype: str, old: dict[str, Any], new: dict[str, Any], moved: set[str]) -> str | None:
    """The name a replaced resource keeps (`TableName traces`), so its new self would collide with the old
    one: AWS refuses that replacement. The name property is TYPE's `<Thing>Name`, `Name` or `<Thing>`
    (RoleName, TableBucketName, Namespace). No collision when the resource moves to another container
    (its table bucket, namespace, log group or bucket changes, or is itself replaced: `moved`)."""
    thing = rtype.rsplit("::", 1)[-1]
    o, n = _props(old), _props(new)
    key = next((k for k in (f"{thing}Name", "Name", thing) if k in n), None)
    if key is None or n[key] != o.get(key):
        return None
    for container in cfn_schemas.CONTAINERS:
        if (
            container != key
            and container in n
            and (n[container] != o.get(container) or cfn_schemas.refs(n[container]) & moved)
        ):
            return None
    return f"{key} {_shown(n[key])}"


def snake(name: str) -> str:
    """ErrorBucket -> error_bucket: a bucket's `drop=` token."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def loss(rtype: str, lid: str, props: dict[str, Any], objects: Mapping[str, Contents]) -> tuple[str, str]:
    """(what is lost, the `drop=` token) when this resource goes; ("", "") for one that holds no data."""
    if rtype == "AWS::S3Tables::TableBucket":
        name = _shown(props.get("TableBucketName", lid))
        return f"table bucket {name}: every namespace and table in it, with their rows", "table_bucket"
    if rtype == "AWS::S3Tables::Namespace":
        return (
            f"namespace {_shown(props.get('Namespace', lid))}: every table in it, with their rows",
            "namespace",
        )
    if rtype == "AWS::S3Tables::Table":
        name = _shown(props.get("TableName", lid))
        return f"table {_shown(props.get('Namespace', '?'))}.{name}: its rows", name
    if rtype == "AWS::S3::Bucket" and lid in objects and objects[lid].versions > 0:
        return objects[lid].describe(), snake(lid)
    return "", ""


def _change(
    v: _Verdict, old: dict[str, Any], new: dict[str, Any], objects: Mapping[str, Contents], moved: set[str]
) -> Change:
    fields = {label(path): (_value(o), _value(n)) for path, o, n in v.changes}
    replaces = tuple(
        label(path)
        for path, _, _ in v.changes
        if path[1:2] == ("Properties",) and any(_matches(path[2:], p) for p in v.forced)
    )
    reason, kept = "", False
    if v.action == "delete":
        kept = old.get("DeletionPolicy") in KEPT
        reason = "removed from the template: " + (
            f"kept (DeletionPolicy {old.get('DeletionPolicy')}), no longer in the stack"
            if kept
            else "CloudFormation deletes it"
        )
    elif v.action == "replace":
        kept = old.get("UpdateReplacePolicy") in KEPT and new.get("UpdateReplacePolicy") in KEPT
        reason = "CloudFormation replaces it: " + "; ".join(v.why)
        name = custom_name(v.type, old, new, moved)
        if name:
            reason += f"; the update fails: {CUSTOM_NAME_FAILS} ({name} stays)"
        if kept:
            reason += "; the old one is kept (UpdateReplacePolicy Retain)"
    loses, consent = (
        ("", "") if kept or v.action in ("create", "update") else loss(v.type, v.lid, _props(old), objects)
    )
    return Change(v.action, f"{v.type} {v.lid}", fields, reason, loses, consent, replaces)


def resource_changes(
    want: dict[str, Any],
    have: dict[str, Any],
    create_only: CreateOnly,
    changed_params: set[str] | None = None,
    objects: Mapping[str, Contents] | None = None,
) -> list[Change]:
    """One Change per resource that differs; replacements and deletions first."""
    params = set(changed_params or ())
    verdicts = _verdicts(want, have, create_only, params)
    w_res, h_res = want.get("Resources") or {}, have.get("Resources") or {}
    moved = params | {lid for lid, v in verdicts.items() if v.action == "replace"}
    out = [
        _change(v, _body(h_res.get(lid)), _body(w_res.get(lid)), objects or {}, moved)
        for lid, v in verdicts.items()
    ]
    return sorted(out, key=lambda c: ACTION_ORDER[c.action])


def changed_params(have: Mapping[str, str], want: Mapping[str, str]) -> set[str]:
    """The stack parameters whose value changes (a create-only property that refers to one changes too)."""
    return {k for k in {*have, *want} if have.get(k) != want.get(k)}


def at_risk(
    want: dict[str, Any], have: dict[str, Any], create_only: CreateOnly, params: set[str], rtype: str
) -> list[str]:
    """Logical ids of `rtype` resources the diff deletes or replaces (observe reads what they hold)."""
    verdicts = _verdicts(want, have, create_only, params)
    return [lid for lid, v in verdicts.items() if v.type == rtype and v.action in ("delete", "replace")]


def stack_fields(
    want: dict[str, Any], have: dict[str, Any], want_tags: dict[str, str], have_tags: dict[str, str]
) -> dict[str, tuple[Any, Any]]:
    """The template's other sections (Outputs, Parameters declared, Description, ...) and the stack's tags,
    per entry: `Outputs.TracesTableArn`, `Tags.team`."""
    out: dict[str, tuple[Any, Any]] = {}
    for section in [*have, *(k for k in want if k not in have)]:
        if section == "Resources":
            continue
        old, new = have.get(section, ABSENT), want.get(section, ABSENT)
        if isinstance(old, dict) or isinstance(new, dict):  # one field per entry at least
            o = old if isinstance(old, dict) else {}
            n = new if isinstance(new, dict) else {}
            found = [
                c
                for k in [*o, *(k for k in n if k not in o)]
                for c in leaves(o.get(k, ABSENT), n.get(k, ABSENT), (section, k))
            ]
        else:
            found = leaves(old, new, (section,))
        out.update({label(p): (_value(a), _value(b)) for p, a, b in found})
    out.update({label(p): (_value(a), _value(b)) for p, a, b in leaves(have_tags, want_tags, ("Tags",))})
    return out
