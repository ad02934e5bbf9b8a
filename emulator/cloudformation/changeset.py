"""Change sets: the diff of a template against a stack, and the change-set API handlers."""

from __future__ import annotations

import re
import uuid
from typing import Any

from emulator.cloudformation import importing
from emulator.cloudformation.engine import Engine
from emulator.cloudformation.exceptions import AlreadyExistsException, InvalidChangeSetStatus, ValidationError
from emulator.cloudformation.models import (
    SVC,
    ChangeSet,
    Stack,
    find_change_set,
    find_stack,
    live_stack,
    lock,
    now_utc,
    present,
    state,
)
from emulator.cloudformation.responses import (
    STACK_NAME_RE,
    check_not_busy,
    check_updatable,
    new_stack_id,
    partition,
    request_args,
    request_template_body,
    xml_ok,
)
from emulator.cloudformation.template import (
    all_params,
    check_capabilities,
    create_only_properties,
    effective_params,
    parse_template,
    resolve_parameters,
)
from emulator.core.registry import OverrideRequest, OverrideResponse, register
from lake import cfn_schemas

# -- change set diff -------------------------------------------------------------------------------


def _diff(stack: Stack | None, template: dict[str, Any], parameters: dict[str, str]) -> list[dict[str, Any]]:
    old = (stack.template.get("Resources") if stack and stack.template else None) or {}
    new = template.get("Resources", {})
    # Parameter values as the resources see them: a default counts as the value it gives.
    now, before = effective_params(template, parameters), (all_params(stack) if stack else {})
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
        keys |= {k for k, v in props.items() if cfn_schemas.refs(v) & changed_params}
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
    return [{"Type": "Resource", "ResourceChange": present(c)} for c in changes]


# -- change sets -----------------------------------------------------------------------------------


@register(SVC, "CreateChangeSet")
def create_change_set(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    name = a.get("StackName", "")
    cs_name = a.get("ChangeSetName", "")
    cs_type = a.get("ChangeSetType") or "UPDATE"
    if not re.match(r"^[a-zA-Z][-a-zA-Z0-9]*$", cs_name or ""):
        raise ValidationError(
            f"1 validation error detected: Value '{cs_name}' at 'changeSetName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )
    with lock:
        st = state(req.account_id, req.region)
        stack = find_stack(st, name)
        if stack is not None and stack.deleted is not None:
            stack = None
        if cs_type == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise ValidationError(
                    f"Stack [{name}] already exists and cannot be created again "
                    f"with the changeSet [{cs_name}]."
                )
            if not STACK_NAME_RE.match(name):
                raise ValidationError(f"Stack name {name!r} must satisfy the pattern [a-zA-Z][-a-zA-Z0-9]*")
        elif cs_type == "UPDATE":
            if stack is None:
                raise ValidationError(f"Stack [{name}] does not exist")
            if stack.status == "REVIEW_IN_PROGRESS":
                raise ValidationError(f"Stack [{name}] does not exist")
            check_updatable(stack)
        elif cs_type == "IMPORT":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                check_updatable(stack)  # an import into an existing stack: its resources plus the imported
        else:
            raise ValidationError(
                f"ChangeSetType {cs_type} is not supported by the emulator (CREATE, UPDATE, IMPORT)"
            )
        if stack is not None and any(
            c.name == cs_name and c.stack_id == stack.id for c in st.change_sets.values()
        ):
            raise AlreadyExistsException(f"ChangeSet {cs_name} already exists")
        body = request_template_body(req, a, stack)
        template = parse_template(body, region=req.region)
        params = resolve_parameters(template, a.get("Parameters") or [], all_params(stack) if stack else None)
        check_capabilities(template, a.get("Capabilities") or [])
        into = stack if stack is not None and stack.status != "REVIEW_IN_PROGRESS" else None
        to_import = (
            importing.checked(
                st, into, req.account_id, req.region, template, a.get("ResourcesToImport") or []
            )
            if cs_type == "IMPORT"
            else {}
        )
        if stack is None:
            stack = Stack(
                new_stack_id(req, name),
                name,
                req.account_id,
                req.region,
                status="REVIEW_IN_PROGRESS",
                tags={t["Key"]: t["Value"] for t in a.get("Tags") or []},
            )
            st.stacks[stack.id] = stack
            Engine(stack).stack_event("REVIEW_IN_PROGRESS", "User Initiated")
        cs_arn = f"arn:{partition(req)}:cloudformation:{req.region}:{req.account_id}"
        cs_id = f"{cs_arn}:changeSet/{cs_name}/{uuid.uuid4()}"
        changes = _diff(
            stack if cs_type == "UPDATE" else into if cs_type == "IMPORT" else None, template, params
        )
        if to_import:
            for change in changes:
                change["ResourceChange"]["Action"] = "Import"
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
            to_import,
        )
        if cs_type == "UPDATE" and not changes and effective_params(template, params) == all_params(stack):
            cs.status, cs.execution_status = "FAILED", "UNAVAILABLE"
            cs.reason = (
                "The submitted information didn't contain changes. Submit different information to "
                "create a change set."
            )
        st.change_sets[cs_id] = cs
        return xml_ok(req, {"Id": cs_id, "StackId": stack.id})


@register(SVC, "DescribeChangeSet")
def describe_change_set(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        cs = find_change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        stack = st.stacks[cs.stack_id]
        out = present(
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
        return xml_ok(req, out)


@register(SVC, "ListChangeSets")
def list_change_sets(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        stack = live_stack(st, a.get("StackName", ""))
        out = [
            present(
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
        return xml_ok(req, {"Summaries": out})


@register(SVC, "DeleteChangeSet")
def delete_change_set(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        cs = find_change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus("Cannot delete a change set that is being executed")
        del st.change_sets[cs.id]
        return xml_ok(req)


@register(SVC, "ExecuteChangeSet")
def execute_change_set(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        cs = find_change_set(st, a.get("ChangeSetName", ""), a.get("StackName"))
        if cs.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{cs.id}] cannot be executed in its current status of [{cs.status}]"
            )
        stack = st.stacks[cs.stack_id]
        check_not_busy(stack)
        stack.change_set_id = cs.id
        stack.capabilities = cs.capabilities
        if cs.tags is not None:
            stack.tags = dict(cs.tags)
        stack.disable_rollback = bool(a.get("DisableRollback"))
        engine = Engine(stack)
        if cs.type == "IMPORT" and stack.status != "REVIEW_IN_PROGRESS":
            stack.updated = now_utc()
            engine.import_into(cs.template, cs.parameters, cs.template_body, cs.to_import)
            ok = stack.status == "IMPORT_COMPLETE"
        elif cs.type in ("CREATE", "IMPORT"):
            stack.template, stack.template_body, stack.parameters = (
                cs.template,
                cs.template_body,
                cs.parameters,
            )
            stack.description = cs.template.get("Description")
            stack.created = now_utc()
            if cs.type == "IMPORT":
                engine.import_resources(cs.template, cs.parameters, cs.to_import)
            else:
                engine.create(cs.template, cs.parameters)
            ok = stack.status in ("CREATE_COMPLETE", "IMPORT_COMPLETE")
        else:
            stack.updated = now_utc()
            engine.update(cs.template, cs.parameters, cs.template_body)
            ok = stack.status == "UPDATE_COMPLETE"
        cs.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        for other in [k for k, c in st.change_sets.items() if c.stack_id == stack.id and c.id != cs.id]:
            del st.change_sets[other]
        return xml_ok(req)
