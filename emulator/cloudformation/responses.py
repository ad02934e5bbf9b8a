"""The CloudFormation API's stack operations (CreateStack, UpdateStack, DeleteStack, ContinueUpdateRollback)
and the helpers
every handler of the engine shares (query-protocol arguments and XML answers, template bodies, ids).

Reads are in reads.py, change sets in changeset.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from emulator.cloudformation.engine import Engine
from emulator.cloudformation.exceptions import AlreadyExistsException, ValidationError
from emulator.cloudformation.models import SVC, Stack, find_stack, live_stack, lock, now_utc, state
from emulator.cloudformation.rollback import check_skippable
from emulator.cloudformation.template import (
    all_params,
    check_capabilities,
    effective_params,
    parse_template,
    resolve_parameters,
)
from emulator.core.query import parse_params, xml_response
from emulator.core.registry import OverrideRequest, OverrideResponse, register

# -- API -------------------------------------------------------------------------------------------


def request_args(req: OverrideRequest) -> dict[str, Any]:
    return parse_params(SVC, req.operation, {k: str(v) for k, v in req.body.items()})


def xml_ok(req: OverrideRequest, result: dict[str, Any] | None = None) -> OverrideResponse:
    return OverrideResponse(
        status=200, body=xml_response(SVC, req.operation, result), headers={"Content-Type": "text/xml"}
    )


def request_template_body(req: OverrideRequest, a: dict[str, Any], stack: Stack | None) -> str:
    if a.get("UsePreviousTemplate"):
        if stack is None:
            raise ValidationError("UsePreviousTemplate requires an existing stack")
        return stack.template_body
    if a.get("TemplateBody"):
        return str(a["TemplateBody"])
    if a.get("TemplateURL"):
        from moto.cloudformation.utils import get_stack_from_s3_url

        return str(
            get_stack_from_s3_url(a["TemplateURL"], account_id=req.account_id, partition=partition(req))
        )
    raise ValidationError("Either Template URL or Template Body must be specified.")


def partition(req: OverrideRequest) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(req.region))


def new_stack_id(req: OverrideRequest, name: str) -> str:
    return f"arn:{partition(req)}:cloudformation:{req.region}:{req.account_id}:stack/{name}/{uuid.uuid4()}"


STACK_NAME_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")


# Statuses a stack takes no update in (only a delete, or ContinueUpdateRollback for UPDATE_ROLLBACK_FAILED).
NOT_UPDATABLE = (
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "CREATE_FAILED",
    "DELETE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_FAILED",
)


def check_not_busy(stack: Stack) -> None:
    status = stack.visible_status
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise ValidationError(f"Stack:{stack.id} is in {status} state and can not be updated.")


def check_updatable(stack: Stack) -> None:
    check_not_busy(stack)
    if stack.status in NOT_UPDATABLE:
        raise ValidationError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")


@register(SVC, "CreateStack")
def create_stack(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    name = a.get("StackName", "")
    if not STACK_NAME_RE.match(name):
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )
    with lock:
        st = state(req.account_id, req.region)
        if find_stack(st, name) is not None and find_stack(st, name).deleted is None:  # type: ignore[union-attr]
            raise AlreadyExistsException(f"Stack [{name}] already exists")
        body = request_template_body(req, a, None)
        template = parse_template(body, region=req.region)
        params = resolve_parameters(template, a.get("Parameters") or [], None)
        check_capabilities(template, a.get("Capabilities") or [])
        stack = Stack(
            new_stack_id(req, name),
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
        Engine(stack).create(template, params)
        return xml_ok(req, {"StackId": stack.id})


@register(SVC, "UpdateStack")
def update_stack(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        stack = live_stack(state(req.account_id, req.region), a.get("StackName", ""))
        check_updatable(stack)
        if stack.status == "REVIEW_IN_PROGRESS":
            raise ValidationError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
        body = request_template_body(req, a, stack)
        template = parse_template(body, region=req.region)
        params = resolve_parameters(template, a.get("Parameters") or [], all_params(stack))
        check_capabilities(template, a.get("Capabilities") or [])
        same_params = effective_params(template, params) == all_params(stack)
        if template == stack.template and same_params and a.get("Tags") is None:
            raise ValidationError("No updates are to be performed.")
        if a.get("Tags") is not None:
            stack.tags = {t["Key"]: t["Value"] for t in a["Tags"]}
        stack.capabilities = list(a.get("Capabilities") or [])
        stack.updated = now_utc()
        Engine(stack).update(template, params, body)
        return xml_ok(req, {"StackId": stack.id})


@register(SVC, "DeleteStack")
def delete_stack(req: OverrideRequest) -> OverrideResponse:
    a = request_args(req)
    with lock:
        st = state(req.account_id, req.region)
        stack = find_stack(st, a.get("StackName", ""))
        if stack is None or stack.deleted is not None:
            return xml_ok(req)  # AWS: deleting a missing stack succeeds
        check_not_busy(stack)
        if stack.termination_protection:
            raise ValidationError(
                f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        retain = set(a.get("RetainResources") or [])
        if retain and stack.status != "DELETE_FAILED":
            raise ValidationError(
                "Invalid operation on stack: RetainResources can only be specified "
                "when the stack is in DELETE_FAILED"
            )
        Engine(stack).delete(retain)
        for cs_id in [k for k, cs in st.change_sets.items() if cs.stack_id == stack.id and stack.deleted]:
            del st.change_sets[cs_id]
        return xml_ok(req)


@register(SVC, "ContinueUpdateRollback")
def continue_update_rollback(req: OverrideRequest) -> OverrideResponse:
    """Resume the rollback of an UPDATE_ROLLBACK_FAILED stack, skipping ``ResourcesToSkip`` (rollback.py)."""
    a = request_args(req)
    with lock:
        stack = live_stack(state(req.account_id, req.region), a.get("StackName", ""))
        check_not_busy(stack)
        skip = [str(n) for n in a.get("ResourcesToSkip") or []]
        check_skippable(stack.status, stack.rollback, skip, stack.id)
        engine = Engine(stack)
        engine.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
        hold_events = len(stack.events)
        engine.resume(set(skip))
        engine.hold("UPDATE_ROLLBACK_IN_PROGRESS", hold_events)
        return xml_ok(req)
