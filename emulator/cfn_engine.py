"""CloudFormation stack lifecycle as AWS runs it, with moto's resource models doing the provisioning.

moto's own stack engine raises on the first resource error (the API call fails instead of the stack),
records no resource events, knows no replacement and no DELETE_FAILED. This engine owns the stack
operations (create/update/delete, change sets, describe*, GetTemplate) and keeps moto for what it is good
at: intrinsic functions (``ResourceMap``/``clean_json``) and the per-type create/update/delete of
``CloudFormationModel`` classes (ours included: emulator/cfn_s3tables.py, emulator/logs_cfn.py).

Behaviour: resources in dependency order, one IN_PROGRESS + COMPLETE/FAILED event each, the failure
reason on the failed resource and on the stack; create failures roll back (ROLLBACK_COMPLETE) unless
DisableRollback; a change to a create-only property (from the CloudFormation schemas cfn-lint ships)
replaces the resource, old one deleted in the cleanup phase (a custom-named resource whose name stays
is refused, as on AWS); delete failures end DELETE_FAILED naming the resources; the ``latency`` fault keeps
the stack ``*_IN_PROGRESS`` for ``cloudformation_stack_seconds`` as seen by every read; DescribeStackEvents
pages (EVENTS_PAGE a page). Template summaries and validation are in emulator/cfn_reads.py.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator.admin import faults
from emulator.cfn_query import page_token, parse_params, token_position, xml_response
from emulator.core.exceptions import AwsError
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from emulator.core.state import RegionalState

SVC = "cloudformation"
# Events per DescribeStackEvents page. AWS's API reference gives no number; 100 is what public reports
# (e.g. ansible/ansible#41840) and other emulators measured.
EVENTS_PAGE = 100
_lock = threading.RLock()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# -- resource type knowledge -----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _provider_index() -> dict[str, str]:
    import cfnlint

    path = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas", "providers", "us-east-1.json")
    with open(path) as fh:
        data = json.load(fh)
    return {k: v for k, v in data.items() if isinstance(v, str)}


@functools.lru_cache(maxsize=256)
def _schema(resource_type: str) -> dict[str, Any]:
    import cfnlint

    digest = _provider_index().get(resource_type)
    if not digest:
        return {}
    path = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas", "resources", f"{digest}.json")
    try:
        with open(path) as fh:
            loaded = json.load(fh)
            return loaded if isinstance(loaded, dict) else {}
    except OSError:
        return {}


def create_only_properties(resource_type: str) -> set[str]:
    """Top-level property names whose change forces replacement."""
    out = set()
    for ptr in _schema(resource_type).get("createOnlyProperties", []):
        parts = ptr.split("/")
        if len(parts) >= 3 and parts[1] == "properties":
            out.add(parts[2])
    return out


def known_type(resource_type: str) -> bool:
    return (
        resource_type in _provider_index()
        or resource_type.startswith("Custom::")
        or resource_type in ("AWS::CloudFormation::CustomResource",)
    )


_CONTAINER_PROPS = ("TableBucketARN", "Namespace", "LogGroupName", "Bucket")
_IAM_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::AccessKey",
)
_IAM_NAME_PROPS = ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")


# -- records ---------------------------------------------------------------------------------------


@dataclass
class Res:
    logical_id: str
    type: str
    instance: Any = None
    physical_id: str = ""
    status: str = ""
    reason: str | None = None
    updated: datetime.datetime = field(default_factory=_now)
    props: Any = None  # resolved properties at the last create/update


@dataclass
class ChangeSet:
    id: str
    name: str
    stack_id: str
    type: str
    template_body: str
    template: dict[str, Any]
    parameters: dict[str, str]
    capabilities: list[str]
    tags: dict[str, str] | None
    description: str | None
    changes: list[dict[str, Any]]
    status: str = "CREATE_COMPLETE"
    execution_status: str = "AVAILABLE"
    reason: str | None = None
    created: datetime.datetime = field(default_factory=_now)


@dataclass
class Stack:
    id: str
    name: str
    account_id: str
    region: str
    template_body: str = ""
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    role_arn: str | None = None
    description: str | None = None
    status: str = "CREATE_IN_PROGRESS"
    reason: str | None = None
    created: datetime.datetime = field(default_factory=_now)
    updated: datetime.datetime | None = None
    deleted: datetime.datetime | None = None
    disable_rollback: bool = False
    termination_protection: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Res] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    rm: Any = None
    change_set_id: str | None = None
    # latency fault: (deadline, status shown until then, number of events shown until then)
    hold: tuple[float, str, int] | None = None

    def _release(self) -> None:
        if self.hold is not None and time.monotonic() >= self.hold[0]:
            self.hold = None

    @property
    def visible_status(self) -> str:
        self._release()
        return self.hold[1] if self.hold else self.status

    @property
    def visible_reason(self) -> str | None:
        self._release()
        return None if self.hold else self.reason

    @property
    def visible_events(self) -> list[dict[str, Any]]:
        self._release()
        return self.events[: self.hold[2]] if self.hold else self.events


@dataclass
class _State:
    stacks: dict[str, Stack] = field(default_factory=dict)  # by id, live and deleted
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)


_state = RegionalState(_State, _lock)


def _err(message: str, code: str = "ValidationError", status: int = 400) -> AwsError:
    return AwsError(code, message, status)


def _find(st: _State, name_or_id: str, include_deleted: bool = False) -> Stack | None:
    if name_or_id in st.stacks:
        s = st.stacks[name_or_id]
        return s
    for s in st.stacks.values():
        if s.name == name_or_id and s.deleted is None:
            return s
    return None


def _existing(st: _State, name_or_id: str, missing: str, include_deleted: bool = False) -> Stack:
    """The stack, or ``missing`` as a ValidationError: a deleted stack is found by its id only."""
    s = _find(st, name_or_id, include_deleted=include_deleted)
    if s is None or (s.deleted is not None and s.id != name_or_id):
        raise _err(missing)
    return s


def _live(st: _State, name_or_id: str) -> Stack:
    return _existing(st, name_or_id, f"Stack with id {name_or_id} does not exist")


def _present(item: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value (the API leaves the others out)."""
    return {k: v for k, v in item.items() if v is not None}


# -- templates and parameters ----------------------------------------------------------------------


def parse_template(body: str, *, unknown_types: bool = False) -> dict[str, Any]:
    """The template as a dict; ``unknown_types`` lets resource types CloudFormation lacks through."""
    from moto.cloudformation.models import Stack as MotoStack

    try:
        parsed = MotoStack.parse_template(body)
    except Exception as exc:
        raise _err(f"Template format error: {exc}") from exc
    if not isinstance(parsed, dict):
        raise _err("Template format error: JSON not well-formed.")
    if not isinstance(parsed.get("Resources"), dict) or not parsed["Resources"]:
        raise _err("Template format error: At least one Resources member must be defined.")
    unknown = sorted(
        {r.get("Type", "") for r in parsed["Resources"].values() if not known_type(r.get("Type", ""))}
    )
    if unknown and not unknown_types:
        raise _err(f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")
    return parsed


def _resolve_parameters(
    template: dict[str, Any], given: list[dict[str, Any]], previous: dict[str, str] | None
) -> dict[str, str]:
    declared = template.get("Parameters") or {}
    out: dict[str, str] = {}
    unknown = []
    for p in given or []:
        key = str(p.get("ParameterKey"))
        if key not in declared:
            unknown.append(str(key))
            continue
        if p.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise _err(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true "
                    "for a parameter key not in the previous template"
                )
            out[key] = previous[key]
        else:
            out[key] = str(p.get("ParameterValue", ""))
    if unknown:
        raise _err(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [k for k, v in declared.items() if k not in out and "Default" not in (v or {})]
    if missing:
        raise _err(f"Parameters: [{', '.join(missing)}] must have values")
    return out


def needed_capability(template: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The capability the template needs (None, CAPABILITY_IAM or CAPABILITY_NAMED_IAM), and the
    resource types that need it."""
    needed = None
    types: list[str] = []
    for res in template.get("Resources", {}).values():
        if res.get("Type") in _IAM_TYPES:
            if res["Type"] not in types:
                types.append(res["Type"])
            props = res.get("Properties") or {}
            if any(k in props for k in _IAM_NAME_PROPS):
                needed = "CAPABILITY_NAMED_IAM"
            needed = needed or "CAPABILITY_IAM"
    return needed, types


def _check_capabilities(template: dict[str, Any], capabilities: list[str]) -> None:
    needed, _ = needed_capability(template)
    if needed is None:
        return
    have = set(capabilities or [])
    if "CAPABILITY_NAMED_IAM" in have or (needed == "CAPABILITY_IAM" and "CAPABILITY_IAM" in have):
        return
    raise _err(f"Requires capabilities : [{needed}]", "InsufficientCapabilitiesException")


def _refs(value: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str) and v in names:
                found.add(v)
            elif k == "Fn::GetAtt":
                target = (
                    v[0] if isinstance(v, list) and v else (v.split(".")[0] if isinstance(v, str) else None)
                )
                if target in names:
                    found.add(target)
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) and v else v
                if isinstance(text, str):
                    for m in re.findall(r"\$\{([^}!][^}]*)\}", text):
                        base = m.split(".")[0]
                        if base in names:
                            found.add(base)
                if isinstance(v, list) and len(v) > 1:
                    found |= _refs(v[1], names)
            else:
                found |= _refs(v, names)
    elif isinstance(value, list):
        for v in value:
            found |= _refs(v, names)
    return found


def _depends_on(body: dict[str, Any]) -> set[str]:
    depends = body.get("DependsOn") or []
    return {depends} if isinstance(depends, str) else set(depends)


def dependency_order(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    names = set(resources)
    deps: dict[str, set[str]] = {}
    for name, body in resources.items():
        d = _refs(body.get("Properties", {}), names) | _refs(body.get("Condition", {}), names)
        d |= _depends_on(body)
        missing = [x for x in d if x not in names]
        if missing:
            raise _err(
                f"Template format error: Unresolved resource dependencies [{', '.join(sorted(missing))}] "
                "in the Resources block of the template"
            )
        deps[name] = d - {name}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise _err(f"Circular dependency between resources: [{', '.join(sorted(set(path)))}]")
        state[n] = 1
        for d in sorted(deps[n]):
            visit(d, [*path, d])
        state[n] = 2
        order.append(n)

    for n in resources:
        visit(n, [n])
    return order


def _dependents(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template.get("Resources", {})
    names = set(resources)
    out: dict[str, set[str]] = {n: set() for n in names}
    for name, body in resources.items():
        d = _refs(body.get("Properties", {}), names) | _depends_on(body)
        for x in d:
            if x in out:
                out[x].add(name)
    return out


# -- provisioning ----------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AwsError):
        code, msg = exc.code, exc.message
    else:
        code = getattr(exc, "error_type", None) or getattr(exc, "code", None) or type(exc).__name__
        msg = getattr(exc, "message", None) or str(exc)
        if not isinstance(code, str):
            code = type(exc).__name__
    return f'Resource handler returned message: "{msg}" (HandlerErrorCode: {code})'


class _Engine:
    def __init__(self, stack: Stack) -> None:
        self.s = stack

    # events
    def event(
        self,
        logical: str,
        rtype: str,
        status: str,
        physical: str = "",
        reason: str | None = None,
        props: Any = None,
    ) -> None:
        s = self.s
        s.events.append(
            {
                "StackId": s.id,
                "EventId": str(uuid.uuid4()),
                "StackName": s.name,
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": rtype,
                "Timestamp": _now(),
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "ResourceProperties": json.dumps(props) if props is not None else None,
            }
        )

    def fail(self, res: Res, rtype: str, status: str, reason: str) -> _Failed:
        """Record a resource's failure (status, reason, event); the caller raises what this returns."""
        res.status, res.reason = status, reason
        self.event(res.logical_id, rtype, status, res.physical_id, reason)
        return _Failed(res.logical_id)

    def stack_event(self, status: str, reason: str | None = None) -> None:
        self.s.status = status
        self.s.reason = reason
        self.event(self.s.name, "AWS::CloudFormation::Stack", status, self.s.id, reason)

    # resource map
    def new_rm(self, template: dict[str, Any], parameters: dict[str, str]) -> Any:
        from moto.cloudformation.parsing import ResourceMap

        rm = ResourceMap(
            self.s.id,
            self.s.name,
            dict(parameters),
            dict(self.s.tags),
            region_name=self.s.region,
            account_id=self.s.account_id,
            template=template,
            cross_stack_resources=_exports(self.s.account_id, self.s.region),
        )
        try:
            rm.load()
        except AwsError:
            raise
        except Exception as exc:
            raise _err(str(getattr(exc, "message", None) or exc)) from exc
        rm.tags.update(
            {"aws:cloudformation:stack-name": self.s.name, "aws:cloudformation:stack-id": self.s.id}
        )
        return rm

    def resolve_props(self, rm: Any, body: dict[str, Any]) -> Any:
        from moto.cloudformation.parsing import clean_json

        return clean_json(copy.deepcopy(body.get("Properties", {})), rm)

    def create_one(self, rm: Any, logical: str, body: dict[str, Any]) -> Res | None:
        from moto.cloudformation.parsing import resource_class_from_type

        rtype = body.get("Type", "")
        cond = body.get("Condition")
        if cond and not rm.lazy_condition_map[cond]:
            return None
        res = Res(logical, rtype, status="CREATE_IN_PROGRESS")
        self.s.resources[logical] = res
        self.event(logical, rtype, "CREATE_IN_PROGRESS")
        try:
            if resource_class_from_type(rtype) is None:
                raise AwsError("NotSupported", f"the emulator does not support resource type {rtype}")
            res.props = self.resolve_props(rm, body)
            rm._parsed_resources.pop(logical, None)
            inst = rm[logical]
            if inst is None:
                raise AwsError("NotSupported", f"the emulator does not support resource type {rtype}")
        except Exception as exc:
            rm._parsed_resources.pop(logical, None)
            raise self.fail(res, rtype, "CREATE_FAILED", _reason(exc)) from exc
        res.instance = inst
        res.physical_id = str(getattr(inst, "physical_resource_id", "") or "")
        res.status, res.reason, res.updated = "CREATE_COMPLETE", None, _now()
        self.event(logical, rtype, "CREATE_IN_PROGRESS", res.physical_id, "Resource creation Initiated")
        self.event(logical, rtype, "CREATE_COMPLETE", res.physical_id)
        return res

    def delete_instance(self, inst: Any, rtype: str, body: dict[str, Any]) -> None:
        from moto.cloudformation.parsing import parse_and_delete_resource

        if inst is None:
            return
        deleter = getattr(inst, "delete", None)
        if callable(deleter):
            try:
                deleter(self.s.account_id, self.s.region)
                return
            except TypeError:
                pass
        name = str(getattr(inst, "physical_resource_id", "") or "")
        parse_and_delete_resource(name, {"Type": rtype, **body}, self.s.account_id, self.s.region)

    def delete_one(self, res: Res, body: dict[str, Any]) -> None:
        if (body.get("DeletionPolicy") or "Delete") == "Retain":
            self.event(res.logical_id, res.type, "DELETE_SKIPPED", res.physical_id)
            return
        self.event(res.logical_id, res.type, "DELETE_IN_PROGRESS", res.physical_id)
        res.status = "DELETE_IN_PROGRESS"
        try:
            self.delete_instance(res.instance, res.type, body)
        except Exception as exc:
            raise self.fail(res, res.type, "DELETE_FAILED", _reason(exc)) from exc
        res.status, res.reason = "DELETE_COMPLETE", None
        self.event(res.logical_id, res.type, "DELETE_COMPLETE", res.physical_id)

    def compute_outputs(self, rm: Any, template: dict[str, Any]) -> list[dict[str, Any]]:
        from moto.cloudformation.parsing import clean_json

        out = []
        for key, spec in (template.get("Outputs") or {}).items():
            cond = spec.get("Condition")
            if cond and not rm.lazy_condition_map.get(cond):
                continue
            try:
                value = clean_json(copy.deepcopy(spec.get("Value")), rm)
                export = spec.get("Export", {}).get("Name")
                export = clean_json(copy.deepcopy(export), rm) if export is not None else None
            except Exception:
                continue
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            item = {"OutputKey": key, "OutputValue": str(value), "Description": spec.get("Description")}
            if export:
                item["ExportName"] = str(export)
            out.append(item)
        return out

    # operations
    def create(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        s = self.s
        self.stack_event("CREATE_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        created: list[Res] = []
        try:
            rm = self.new_rm(template, parameters)
            s.rm = rm
            for logical in dependency_order(template):
                res = self.create_one(rm, logical, template["Resources"][logical])
                if res is not None:
                    created.append(res)
        except (_Failed, AwsError) as exc:
            failed, reason = _failure(exc, "create")
            if s.disable_rollback:
                self.stack_event("CREATE_FAILED", reason)
            else:
                self.stack_event(
                    "ROLLBACK_IN_PROGRESS", reason + ("Rollback requested by user." if failed else "")
                )
                for res in reversed(created):
                    try:
                        self.delete_one(res, template["Resources"][res.logical_id])
                        s.resources.pop(res.logical_id, None)
                    except _Failed:
                        pass
                if failed:
                    s.resources.pop(failed, None)
                self.stack_event("ROLLBACK_COMPLETE")
            self._hold("CREATE_IN_PROGRESS", hold_events)
            return
        s.outputs = self.compute_outputs(rm, template)
        self.stack_event("CREATE_COMPLETE")
        self._hold("CREATE_IN_PROGRESS", hold_events)

    def update(self, template: dict[str, Any], parameters: dict[str, str], template_body: str) -> None:
        s = self.s
        old_template, old_params, old_body = s.template, s.parameters, s.template_body
        self.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        rm = s.rm
        old_resources = dict(s.resources)
        snapshot_parsed = dict(rm._parsed_resources)
        created: list[Res] = []  # new physical resources (adds and replacements)
        replaced: dict[str, Res] = {}  # logical -> old record, deleted in cleanup
        updated: dict[str, Res] = {}  # logical -> record before in-place update
        try:
            _load_template(rm, template, parameters)
            for logical in dependency_order(template):
                body = template["Resources"][logical]
                prev = old_resources.get(logical)
                if prev is None:
                    res = self.create_one(rm, logical, body)
                    if res is not None:
                        created.append(res)
                    continue
                self._update_one(rm, logical, body, prev, old_template, created, replaced, updated)
        except (_Failed, AwsError) as exc:
            _, reason = _failure(exc, "update")
            self.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
            for res in reversed(created):
                try:
                    body = template["Resources"][res.logical_id]
                    self.delete_one(res, body)
                except (_Failed, KeyError):
                    pass
            for logical, before in updated.items():
                with contextlib.suppress(Exception):  # best effort, as AWS's own rollback can fail
                    self._reapply(before, old_template["Resources"][logical])
            s.resources = old_resources
            rm._parsed_resources.clear()
            rm._parsed_resources.update(snapshot_parsed)
            _load_template(rm, old_template, old_params)
            s.template, s.parameters, s.template_body = old_template, old_params, old_body
            self.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
            self.stack_event("UPDATE_ROLLBACK_COMPLETE")
            self._hold("UPDATE_IN_PROGRESS", hold_events)
            return
        s.template, s.parameters, s.template_body = template, parameters, template_body
        self.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        removed = [n for n in reversed(dependency_order(old_template)) if n not in template["Resources"]]
        for logical in removed:
            res = old_resources.get(logical)
            if res is None:
                continue
            with contextlib.suppress(_Failed):  # AWS carries on too: the update itself succeeded
                self.delete_one(res, old_template["Resources"][logical])
            s.resources.pop(logical, None)
            rm._parsed_resources.pop(logical, None)
        for logical in reversed(dependency_order(old_template)):
            old = replaced.get(logical)
            if old is None:
                continue
            with contextlib.suppress(_Failed):
                self.delete_one(old, old_template["Resources"][logical])
        s.outputs = self.compute_outputs(rm, template)
        self.stack_event("UPDATE_COMPLETE")
        self._hold("UPDATE_IN_PROGRESS", hold_events)

    def _update_one(
        self,
        rm: Any,
        logical: str,
        body: dict[str, Any],
        prev: Res,
        old_template: dict[str, Any],
        created: list[Res],
        replaced: dict[str, Res],
        updated: dict[str, Res],
    ) -> None:
        from moto.cloudformation.parsing import parse_and_update_resource

        rtype = body.get("Type", "")
        try:
            new_props = self.resolve_props(rm, body)
        except Exception as exc:
            raise self.fail(prev, rtype, "UPDATE_FAILED", _reason(exc)) from exc
        if rtype == prev.type and new_props == prev.props:
            return
        changed = {
            k
            for k in set(new_props or {}) | set(prev.props or {})
            if (new_props or {}).get(k) != (prev.props or {}).get(k)
        }
        replace = rtype != prev.type or bool(changed & create_only_properties(rtype))
        if replace:
            self.event(
                logical,
                rtype,
                "UPDATE_IN_PROGRESS",
                prev.physical_id,
                "Requested update requires the creation of a new physical resource; hence creating one.",
            )
            from moto.cloudformation.parsing import resource_name_property_from_type

            name_prop = resource_name_property_from_type(rtype) or ""
            same_name = (
                bool(name_prop)
                and name_prop in (new_props or {})
                and (new_props or {}).get(name_prop) == (prev.props or {}).get(name_prop)
            )
            same_container = all(
                (new_props or {}).get(p) == (prev.props or {}).get(p) for p in _CONTAINER_PROPS
            )
            if same_name and same_container:
                reason = (
                    f"CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                    f"Rename {(new_props or {}).get(name_prop)} and update the stack again."
                )
                raise self.fail(prev, rtype, "UPDATE_FAILED", reason)
            old = copy.copy(prev)
            rm._parsed_resources.pop(logical, None)
            try:
                res = self.create_one(rm, logical, body)
            except _Failed:
                rm._parsed_resources[logical] = old.instance
                raise
            if res is not None:
                created.append(res)
                replaced[logical] = old
                self.event(logical, rtype, "UPDATE_COMPLETE", res.physical_id)
            return
        self.event(logical, rtype, "UPDATE_IN_PROGRESS", prev.physical_id)
        before = copy.copy(prev)
        try:
            inst = parse_and_update_resource(
                logical, copy.deepcopy(body), rm, self.s.account_id, self.s.region
            )
            if inst is not None:
                _post_update(rtype, inst, new_props, self.s.account_id, self.s.region)
                rm._parsed_resources[logical] = inst
                prev.instance = inst
                prev.physical_id = str(getattr(inst, "physical_resource_id", "") or prev.physical_id)
        except Exception as exc:
            raise self.fail(prev, rtype, "UPDATE_FAILED", _reason(exc)) from exc
        updated[logical] = before
        prev.props, prev.status, prev.reason, prev.updated = new_props, "UPDATE_COMPLETE", None, _now()
        self.event(logical, rtype, "UPDATE_COMPLETE", prev.physical_id)

    def _reapply(self, before: Res, body: dict[str, Any]) -> None:
        from moto.cloudformation.parsing import parse_and_update_resource

        inst = parse_and_update_resource(
            before.logical_id, copy.deepcopy(body), self.s.rm, self.s.account_id, self.s.region
        )
        if inst is not None:
            _post_update(before.type, inst, before.props, self.s.account_id, self.s.region)

    def delete(self, retain: set[str]) -> bool:
        s = self.s
        self.stack_event("DELETE_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        template = s.template
        failed: list[str] = []
        blocked: set[str] = set()
        dependents = _dependents(template) if template else {}
        order = list(reversed(dependency_order(template))) if template else []
        for logical in order:
            res = s.resources.get(logical)
            if res is None:
                continue
            if logical in retain:
                self.event(logical, res.type, "DELETE_SKIPPED", res.physical_id)
                s.resources.pop(logical, None)
                continue
            if dependents.get(logical, set()) & (set(failed) | blocked):
                blocked.add(logical)  # something using it could not be deleted: leave it
                continue
            try:
                self.delete_one(res, template["Resources"][logical])
            except _Failed:
                failed.append(logical)
                continue
            s.resources.pop(logical, None)
            if s.rm is not None:
                s.rm._parsed_resources.pop(logical, None)
        if failed:
            self.stack_event(
                "DELETE_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(sorted(failed))}]. ",
            )
            self._hold("DELETE_IN_PROGRESS", hold_events)
            return False
        self.stack_event("DELETE_COMPLETE")
        s.deleted = _now()
        self._hold("DELETE_IN_PROGRESS", hold_events)
        return True

    def _hold(self, status: str, n_events: int) -> None:
        latency = faults.get("latency") or {}
        seconds = float(latency.get("cloudformation_stack_seconds") or 0)
        if seconds > 0:
            self.s.hold = (time.monotonic() + seconds, status, n_events)
            faults.record_fired("latency")


def _load_template(rm: Any, template: dict[str, Any], parameters: dict[str, str]) -> None:
    """Point moto's ResourceMap at another template and parameters (update, and its rollback)."""
    rm._template = template
    rm._resource_json_map = template["Resources"]
    rm.input_parameters = dict(parameters)
    rm.resolved_parameters = {}
    rm.load_mapping()
    rm.load_parameters()
    rm.load_conditions()


def _failure(exc: _Failed | AwsError, verb: str) -> tuple[str | None, str]:
    """(failed logical id or None, stack status reason) of a create or update that failed."""
    failed = exc.logical if isinstance(exc, _Failed) else None
    reason = (
        f"The following resource(s) failed to {verb}: [{failed}]. "
        if failed
        else (exc.message if isinstance(exc, AwsError) else str(exc))
    )
    return failed, reason


class _Failed(Exception):
    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.logical = logical


def _post_update(rtype: str, inst: Any, props: Any, account_id: str, region: str) -> None:
    """Fill gaps in moto's in-place updates (IAM role: trust policy, inline policies, tags)."""
    if rtype != "AWS::IAM::Role" or not isinstance(props, dict):
        return
    doc = props.get("AssumeRolePolicyDocument")
    if doc is not None:
        inst.assume_role_policy_document = doc if isinstance(doc, str) else json.dumps(doc)
    wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or []}
    for name in list(getattr(inst, "policies", {})):
        if name not in wanted:
            inst.delete_policy(name)
    for name, document in wanted.items():
        inst.put_policy(name, document if isinstance(document, str) else json.dumps(document))
    if "Tags" in props:
        inst.tags = {t["Key"]: {"Key": t["Key"], "Value": t["Value"]} for t in props["Tags"] or []}
    if "Description" in props:
        inst.description = props["Description"]


def _exports(account_id: str, region: str) -> dict[str, Any]:
    from moto.cloudformation.parsing import Export

    out: dict[str, Any] = {}
    for s in _state(account_id, region).stacks.values():
        if s.deleted is not None:
            continue
        for o in s.outputs:
            if o.get("ExportName"):
                out[o["ExportName"]] = Export(s.id, o["ExportName"], o["OutputValue"])
    return out


# -- change set diff -------------------------------------------------------------------------------


def _diff(stack: Stack | None, template: dict[str, Any], parameters: dict[str, str]) -> list[dict[str, Any]]:
    old = (stack.template.get("Resources") if stack and stack.template else None) or {}
    new = template.get("Resources", {})
    # Parameter values as the resources see them: a default counts as the value it gives.
    now, before = _effective_params(template, parameters), (_all_params(stack) if stack else {})
    changed_params = {k for k in set(now) | set(before) if now.get(k) != before.get(k)}
    changes = []
    for logical, body in new.items():
        rtype = body.get("Type", "")
        if logical not in old:
            changes.append(
                {
                    "Action": "Add",
                    "LogicalResourceId": logical,
                    "ResourceType": rtype,
                    "Scope": [],
                    "Details": [],
                }
            )
            continue
        prev = old[logical]
        props, prev_props = body.get("Properties") or {}, prev.get("Properties") or {}
        keys = {k for k in set(props) | set(prev_props) if props.get(k) != prev_props.get(k)}
        keys |= {k for k, v in props.items() if _param_refs(v) & changed_params}
        if not keys and rtype == prev.get("Type"):
            continue
        create_only = create_only_properties(rtype)
        replacement = "True" if (rtype != prev.get("Type") or keys & create_only) else "False"
        res = stack.resources.get(logical) if stack else None
        changes.append(
            {
                "Action": "Modify",
                "LogicalResourceId": logical,
                "ResourceType": rtype,
                "PhysicalResourceId": res.physical_id if res else None,
                "Replacement": replacement,
                "Scope": ["Properties"],
                "Details": [
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": k,
                            "RequiresRecreation": "Always" if k in create_only else "Never",
                        },
                        "Evaluation": "Static",
                        "ChangeSource": "DirectModification",
                    }
                    for k in sorted(keys)
                ],
            }
        )
    for logical, body in old.items():
        if logical not in new:
            res = stack.resources.get(logical) if stack else None
            changes.append(
                {
                    "Action": "Remove",
                    "LogicalResourceId": logical,
                    "ResourceType": body.get("Type", ""),
                    "PhysicalResourceId": res.physical_id if res else None,
                    "Scope": [],
                    "Details": [],
                }
            )
    return [{"Type": "Resource", "ResourceChange": _present(c)} for c in changes]


def _param_refs(value: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) and v else v
                if isinstance(text, str):
                    out |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!][^}]*)\}", text)}
            else:
                out |= _param_refs(v)
    elif isinstance(value, list):
        for v in value:
            out |= _param_refs(v)
    return out


# -- API -------------------------------------------------------------------------------------------


def _args(req: OverrideRequest) -> dict[str, Any]:
    return parse_params(SVC, req.operation, {k: str(v) for k, v in req.body.items()})


def _ok(req: OverrideRequest, result: dict[str, Any] | None = None) -> OverrideResponse:
    return OverrideResponse(
        status=200, body=xml_response(SVC, req.operation, result), headers={"Content-Type": "text/xml"}
    )


def _template_body(req: OverrideRequest, a: dict[str, Any], stack: Stack | None) -> str:
    if a.get("UsePreviousTemplate"):
        if stack is None:
            raise _err("UsePreviousTemplate requires an existing stack")
        return stack.template_body
    if a.get("TemplateBody"):
        return str(a["TemplateBody"])
    if a.get("TemplateURL"):
        from moto.cloudformation.utils import get_stack_from_s3_url

        return str(
            get_stack_from_s3_url(a["TemplateURL"], account_id=req.account_id, partition=_partition(req))
        )
    raise _err("Either Template URL or Template Body must be specified.")


def _partition(req: OverrideRequest) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(req.region))


def _stack_id(req: OverrideRequest, name: str) -> str:
    return f"arn:{_partition(req)}:cloudformation:{req.region}:{req.account_id}:stack/{name}/{uuid.uuid4()}"


_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")


def _busy(stack: Stack) -> None:
    status = stack.visible_status
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise _err(f"Stack:{stack.id} is in {status} state and can not be updated.")


@register(SVC, "CreateStack")
def create_stack(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    name = a.get("StackName", "")
    if not _NAME_RE.match(name):
        raise _err(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )
    with _lock:
        st = _state(req.account_id, req.region)
        if _find(st, name) is not None and _find(st, name).deleted is None:  # type: ignore[union-attr]
            raise _err(f"Stack [{name}] already exists", "AlreadyExistsException")
        body = _template_body(req, a, None)
        template = parse_template(body)
        params = _resolve_parameters(template, a.get("Parameters") or [], None)
        _check_capabilities(template, a.get("Capabilities") or [])
        stack = Stack(
            _stack_id(req, name),
            name,
            req.account_id,
            req.region,
            body,
            template,
            params,
            {t["Key"]: t["Value"] for t in a.get("Tags") or []},
            list(a.get("Capabilities") or []),
            a.get("RoleARN"),
            template.get("Description"),
            disable_rollback=bool(a.get("DisableRollback")) or a.get("OnFailure") == "DO_NOTHING",
            termination_protection=bool(a.get("EnableTerminationProtection")),
        )
        st.stacks[stack.id] = stack
        _Engine(stack).create(template, params)
        return _ok(req, {"StackId": stack.id})


@register(SVC, "UpdateStack")
def update_stack(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        stack = _live(_state(req.account_id, req.region), a.get("StackName", ""))
        _busy(stack)
        if stack.status in ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "CREATE_FAILED", "DELETE_FAILED"):
            raise _err(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
        body = _template_body(req, a, stack)
        template = parse_template(body)
        params = _resolve_parameters(template, a.get("Parameters") or [], _all_params(stack))
        _check_capabilities(template, a.get("Capabilities") or [])
        same_params = _effective_params(template, params) == _all_params(stack)
        if template == stack.template and same_params and a.get("Tags") is None:
            raise _err("No updates are to be performed.")
        if a.get("Tags") is not None:
            stack.tags = {t["Key"]: t["Value"] for t in a["Tags"]}
        stack.capabilities = list(a.get("Capabilities") or [])
        stack.updated = _now()
        _Engine(stack).update(template, params, body)
        return _ok(req, {"StackId": stack.id})


@register(SVC, "DeleteStack")
def delete_stack(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        stack = _find(st, a.get("StackName", ""))
        if stack is None or stack.deleted is not None:
            return _ok(req)  # AWS: deleting a missing stack succeeds
        _busy(stack)
        if stack.termination_protection:
            raise _err(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        retain = set(a.get("RetainResources") or [])
        if retain and stack.status != "DELETE_FAILED":
            raise _err(
                "Invalid operation on stack: RetainResources can only be specified "
                "when the stack is in DELETE_FAILED"
            )
        _Engine(stack).delete(retain)
        for cs_id in [k for k, cs in st.change_sets.items() if cs.stack_id == stack.id and stack.deleted]:
            del st.change_sets[cs_id]
        return _ok(req)


def _stack_out(s: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StackId": s.id,
        "StackName": s.name,
        "Description": s.description,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(_all_params(s).items())],
        "CreationTime": s.created,
        "LastUpdatedTime": s.updated,
        "DeletionTime": s.deleted,
        "StackStatus": s.visible_status,
        "StackStatusReason": s.visible_reason,
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": [],
        "Capabilities": s.capabilities,
        "Outputs": s.outputs if not s.hold else [],
        "RoleARN": s.role_arn,
        "Tags": [{"Key": k, "Value": v} for k, v in s.tags.items()],
        "EnableTerminationProtection": s.termination_protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        "ChangeSetId": s.change_set_id,
    }
    return _present(out)


def _all_params(s: Stack) -> dict[str, str]:
    return _effective_params(s.template, s.parameters)


def _effective_params(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Every parameter's value: the given ones, and the template's default for the others."""
    out = {}
    for k, v in (template.get("Parameters") or {}).items():
        if "Default" in (v or {}):
            out[k] = str(v["Default"])
    out.update(given)
    return out


@register(SVC, "DescribeStacks")
def describe_stacks(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        name = a.get("StackName")
        if name:
            stacks = [_existing(st, name, f"Stack with id {name} does not exist", include_deleted=True)]
        else:
            stacks = [s for s in st.stacks.values() if s.deleted is None]
        return _ok(req, {"Stacks": [_stack_out(s) for s in stacks]})


@register(SVC, "ListStacks")
def list_stacks(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    wanted = set(a.get("StackStatusFilter") or [])
    with _lock:
        out = []
        for s in _state(req.account_id, req.region).stacks.values():
            status = s.visible_status
            if wanted and status not in wanted:
                continue
            item = {
                "StackId": s.id,
                "StackName": s.name,
                "TemplateDescription": s.description,
                "CreationTime": s.created,
                "LastUpdatedTime": s.updated,
                "DeletionTime": s.deleted,
                "StackStatus": status,
                "StackStatusReason": s.visible_reason,
                "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
            }
            out.append(_present(item))
        return _ok(req, {"StackSummaries": out})


@register(SVC, "DescribeStackEvents")
def describe_stack_events(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        name = a.get("StackName", "")
        s = _existing(st, name, f"Stack [{name}] does not exist", include_deleted=True)
        visible = s.visible_events
        end = len(visible)
        if a.get("NextToken"):
            got = token_position(a["NextToken"], s.id)
            if got is None or not 0 < got <= end:
                raise _err("Invalid NextToken")
            end = got
        # Newest first, EVENTS_PAGE a page. The token counts from the oldest event, so events that
        # happen between two pages do not shift the later pages.
        start = max(0, end - EVENTS_PAGE)
        out: dict[str, Any] = {"StackEvents": [_present(e) for e in reversed(visible[start:end])]}
        if start > 0:
            out["NextToken"] = page_token(s.id, start)
        return _ok(req, out)


def _resource_rows(s: Stack) -> list[Res]:
    order = dependency_order(s.template) if s.template else []
    return [s.resources[n] for n in order if n in s.resources]


def _resource_out(r: Res, time_key: str = "LastUpdatedTimestamp", **extra: Any) -> dict[str, Any]:
    """One resource as the Describe/List calls show it; ``extra`` adds the call's own fields."""
    return _present(
        {
            **extra,
            "LogicalResourceId": r.logical_id,
            "PhysicalResourceId": r.physical_id,
            "ResourceType": r.type,
            time_key: r.updated,
            "ResourceStatus": r.status,
            "ResourceStatusReason": r.reason,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
        }
    )


@register(SVC, "DescribeStackResources")
def describe_stack_resources(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        physical = a.get("PhysicalResourceId")
        if a.get("StackName") or not physical:
            s = _live(st, a.get("StackName", ""))
        else:  # the stack that holds this physical resource
            found = [
                x
                for x in st.stacks.values()
                if x.deleted is None and any(r.physical_id == physical for r in x.resources.values())
            ]
            if not found:
                raise _err(f"Stack for {physical} does not exist")
            s = found[0]
        rows = [
            r
            for r in _resource_rows(s)
            if not a.get("LogicalResourceId") or r.logical_id == a["LogicalResourceId"]
        ]
        out = [_resource_out(r, "Timestamp", StackName=s.name, StackId=s.id) for r in rows]
        return _ok(req, {"StackResources": out})


@register(SVC, "DescribeStackResource")
def describe_stack_resource(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        s = _live(_state(req.account_id, req.region), a.get("StackName", ""))
        r = s.resources.get(a.get("LogicalResourceId", ""))
        if r is None:
            raise _err(f"Resource {a.get('LogicalResourceId')} does not exist for stack {s.name}")
        out = _resource_out(r, StackName=s.name, StackId=s.id, Metadata="{}")
        return _ok(req, {"StackResourceDetail": out})


@register(SVC, "ListStackResources")
def list_stack_resources(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        s = _live(_state(req.account_id, req.region), a.get("StackName", ""))
        out = [_resource_out(r) for r in _resource_rows(s)]
        return _ok(req, {"StackResourceSummaries": out})


@register(SVC, "GetTemplate")
def get_template(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        if a.get("ChangeSetName"):
            cs = _change_set(st, a["ChangeSetName"], a.get("StackName"))
            return _ok(req, {"TemplateBody": cs.template_body, "StagesAvailable": ["Original", "Processed"]})
        name = a.get("StackName", "")
        s = _existing(st, name, f"Stack with id {name} does not exist", include_deleted=True)
        return _ok(req, {"TemplateBody": s.template_body, "StagesAvailable": ["Original", "Processed"]})


@register(SVC, "ListExports")
def list_exports(req: OverrideRequest) -> OverrideResponse:
    with _lock:
        exports = _exports(req.account_id, req.region)
        return _ok(
            req,
            {
                "Exports": [
                    {"ExportingStackId": e.exporting_stack_id, "Name": e.name, "Value": e.value}
                    for e in exports.values()
                ]
            },
        )


@register(SVC, "UpdateTerminationProtection")
def update_termination_protection(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        s = _live(_state(req.account_id, req.region), a.get("StackName", ""))
        s.termination_protection = bool(a.get("EnableTerminationProtection"))
        return _ok(req, {"StackId": s.id})


# -- change sets -----------------------------------------------------------------------------------


def _change_set(st: _State, name_or_id: str, stack_name: str | None) -> ChangeSet:
    if name_or_id in st.change_sets:
        return st.change_sets[name_or_id]
    stack = _find(st, stack_name) if stack_name else None
    for cs in st.change_sets.values():
        if cs.name == name_or_id and (stack is None or cs.stack_id == stack.id):
            return cs
    raise AwsError("ChangeSetNotFound", f"ChangeSet [{name_or_id}] does not exist", 404)


@register(SVC, "CreateChangeSet")
def create_change_set(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    name = a.get("StackName", "")
    cs_name = a.get("ChangeSetName", "")
    cs_type = a.get("ChangeSetType") or "UPDATE"
    if not re.match(r"^[a-zA-Z][-a-zA-Z0-9]*$", cs_name or ""):
        raise _err(
            f"1 validation error detected: Value '{cs_name}' at 'changeSetName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )
    with _lock:
        st = _state(req.account_id, req.region)
        stack = _find(st, name)
        if stack is not None and stack.deleted is not None:
            stack = None
        if cs_type == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise _err(
                    f"Stack [{name}] already exists and cannot be created again "
                    f"with the changeSet [{cs_name}]."
                )
            if not _NAME_RE.match(name):
                raise _err(f"Stack name {name!r} must satisfy the pattern [a-zA-Z][-a-zA-Z0-9]*")
        elif cs_type == "UPDATE":
            if stack is None:
                raise _err(f"Stack [{name}] does not exist")
            if stack.status == "REVIEW_IN_PROGRESS":
                raise _err(f"Stack [{name}] does not exist")
            _busy(stack)
        else:
            raise _err(f"ChangeSetType {cs_type} is not supported by the emulator (CREATE, UPDATE)")
        if stack is not None and any(
            c.name == cs_name and c.stack_id == stack.id for c in st.change_sets.values()
        ):
            raise AwsError("AlreadyExistsException", f"ChangeSet {cs_name} already exists", 400)
        body = _template_body(req, a, stack)
        template = parse_template(body)
        params = _resolve_parameters(
            template, a.get("Parameters") or [], _all_params(stack) if stack else None
        )
        _check_capabilities(template, a.get("Capabilities") or [])
        if stack is None:
            stack = Stack(
                _stack_id(req, name),
                name,
                req.account_id,
                req.region,
                status="REVIEW_IN_PROGRESS",
                tags={t["Key"]: t["Value"] for t in a.get("Tags") or []},
            )
            st.stacks[stack.id] = stack
            _Engine(stack).stack_event("REVIEW_IN_PROGRESS", "User Initiated")
        cs_arn = f"arn:{_partition(req)}:cloudformation:{req.region}:{req.account_id}"
        cs_id = f"{cs_arn}:changeSet/{cs_name}/{uuid.uuid4()}"
        changes = _diff(stack if cs_type == "UPDATE" else None, template, params)
        cs = ChangeSet(
            cs_id,
            cs_name,
            stack.id,
            cs_type,
            body,
            template,
            params,
            list(a.get("Capabilities") or []),
            {t["Key"]: t["Value"] for t in a["Tags"]} if a.get("Tags") is not None else None,
            a.get("Description"),
            changes,
        )
        if cs_type == "UPDATE" and not changes and _effective_params(template, params) == _all_params(stack):
            cs.status, cs.execution_status = "FAILED", "UNAVAILABLE"
            cs.reason = (
                "The submitted information didn't contain changes. Submit different information to "
                "create a change set."
            )
        st.change_sets[cs_id] = cs
        return _ok(req, {"Id": cs_id, "StackId": stack.id})


@register(SVC, "DescribeChangeSet")
def describe_change_set(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        cs = _change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        stack = st.stacks[cs.stack_id]
        out = _present(
            {
                "ChangeSetName": cs.name,
                "ChangeSetId": cs.id,
                "StackId": stack.id,
                "StackName": stack.name,
                "Description": cs.description,
                "Parameters": [
                    {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(cs.parameters.items())
                ],
                "CreationTime": cs.created,
                "ExecutionStatus": cs.execution_status,
                "Status": cs.status,
                "StatusReason": cs.reason,
                "NotificationARNs": [],
                "Capabilities": cs.capabilities,
                "Tags": [{"Key": k, "Value": v} for k, v in (cs.tags or {}).items()],
                "Changes": cs.changes,
                "IncludeNestedStacks": False,
            }
        )
        return _ok(req, out)


@register(SVC, "ListChangeSets")
def list_change_sets(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        stack = _live(st, a.get("StackName", ""))
        out = [
            _present(
                {
                    "StackId": stack.id,
                    "StackName": stack.name,
                    "ChangeSetId": cs.id,
                    "ChangeSetName": cs.name,
                    "ExecutionStatus": cs.execution_status,
                    "Status": cs.status,
                    "StatusReason": cs.reason,
                    "CreationTime": cs.created,
                    "Description": cs.description,
                }
            )
            for cs in st.change_sets.values()
            if cs.stack_id == stack.id
        ]
        return _ok(req, {"Summaries": out})


@register(SVC, "DeleteChangeSet")
def delete_change_set(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        cs = _change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise _err("Cannot delete a change set that is being executed", "InvalidChangeSetStatus")
        del st.change_sets[cs.id]
        return _ok(req)


@register(SVC, "ExecuteChangeSet")
def execute_change_set(req: OverrideRequest) -> OverrideResponse:
    a = _args(req)
    with _lock:
        st = _state(req.account_id, req.region)
        cs = _change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        if cs.execution_status != "AVAILABLE":
            raise AwsError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{cs.id}] cannot be executed in its current status of [{cs.status}]",
                400,
            )
        stack = st.stacks[cs.stack_id]
        _busy(stack)
        stack.change_set_id = cs.id
        stack.capabilities = cs.capabilities
        if cs.tags is not None:
            stack.tags = dict(cs.tags)
        stack.disable_rollback = bool(a.get("DisableRollback"))
        engine = _Engine(stack)
        if cs.type == "CREATE":
            stack.template, stack.template_body, stack.parameters = (
                cs.template,
                cs.template_body,
                cs.parameters,
            )
            stack.description = cs.template.get("Description")
            stack.created = _now()
            engine.create(cs.template, cs.parameters)
            ok = stack.status == "CREATE_COMPLETE"
        else:
            stack.updated = _now()
            engine.update(cs.template, cs.parameters, cs.template_body)
            ok = stack.status == "UPDATE_COMPLETE"
        cs.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        for other in [k for k, c in st.change_sets.items() if c.stack_id == stack.id and c.id != cs.id]:
            del st.change_sets[other]
        return _ok(req)
