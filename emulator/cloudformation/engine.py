"""CloudFormation stack lifecycle as AWS runs it, with moto's resource models doing the provisioning.

moto's own stack engine raises on the first resource error (the API call fails instead of the stack),
records no resource events, knows no replacement and no DELETE_FAILED. This engine runs the stack
operations (create/update/delete) and keeps moto for what it is good
at: intrinsic functions (``ResourceMap``/``clean_json``) and the per-type create/update/delete of
``CloudFormationModel`` classes (ours included: emulator/cloudformation/resources/).

Behaviour: resources in dependency order, one IN_PROGRESS + COMPLETE/FAILED event each, the failure
reason on the failed resource and on the stack; create failures roll back (ROLLBACK_COMPLETE) unless
DisableRollback; update failures roll back what changed, and a resource that cannot be set back ends the
stack UPDATE_ROLLBACK_FAILED until ContinueUpdateRollback (rollback.py); a change to a create-only property
(from the CloudFormation schemas cfn-lint ships) replaces the resource, old one deleted in the cleanup
phase unless its UpdateReplacePolicy is Retain (a custom-named resource whose name stays is refused, as on
AWS); a resource an update removes from the template is deleted unless its DeletionPolicy (in the template
it was deployed with) keeps it: `Retain`, or `RetainExceptOnCreate` (which deletes only when the operation
that created it rolls back); IMPORT makes a new stack of existing resources, or adds them to a stack;
delete failures end DELETE_FAILED naming the resources; the ``latency`` fault keeps the stack
``*_IN_PROGRESS`` for ``cloudformation_stack_seconds`` (its current value) as seen by every read;
DescribeStackEvents pages (EVENTS_PAGE a page, reads.py). One resource's create/delete and events are in
provision.py; the API handlers in responses.py, reads.py and changeset.py (which resources an import may
take: importing.py); templates in template.py; the state in models.py.
"""

from __future__ import annotations

import contextlib
import copy
import time
from typing import Any

from emulator.admin import faults
from emulator.cloudformation.exceptions import ResourceFailed
from emulator.cloudformation.models import Res, now_utc
from emulator.cloudformation.provision import load_template, reason_of
from emulator.cloudformation.resources.iam import post_update
from emulator.cloudformation.rollback import PendingRollback, Rollback
from emulator.cloudformation.template import (
    CONTAINER_PROPS,
    create_only_properties,
    dependency_order,
    dependents_of,
)
from emulator.core.exceptions import AwsError


class Engine(Rollback):
    """The stack operations: create (with rollback), update (with replacement and rollback), delete."""

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
        except (ResourceFailed, AwsError) as exc:
            failed, reason = _failure(exc, "create")
            if s.disable_rollback:
                self.stack_event("CREATE_FAILED", reason)
            else:
                self.stack_event(
                    "ROLLBACK_IN_PROGRESS", reason + ("Rollback requested by user." if failed else "")
                )
                for res in reversed(created):
                    try:
                        self.delete_one(res, template["Resources"][res.logical_id], creating=True)
                        s.resources.pop(res.logical_id, None)
                    except ResourceFailed:
                        pass
                if failed:
                    s.resources.pop(failed, None)
                self.stack_event("ROLLBACK_COMPLETE")
            self.hold("CREATE_IN_PROGRESS", hold_events)
            return
        s.outputs = self.compute_outputs(rm, template)
        self.stack_event("CREATE_COMPLETE")
        self.hold("CREATE_IN_PROGRESS", hold_events)

    def import_resources(
        self, template: dict[str, Any], parameters: dict[str, str], identifiers: dict[str, dict[str, str]]
    ) -> None:
        """A new stack made of existing resources (ChangeSetType IMPORT): each is found by its identifier
        and becomes the stack's, nothing is created; a resource not found fails the import, which rolls
        back by forgetting what it had imported (IMPORT_ROLLBACK_COMPLETE), deleting nothing."""
        s = self.s
        self.stack_event("IMPORT_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        rm = self.new_rm(template, parameters)
        s.rm = rm
        if self._import_each(rm, template, identifiers):
            s.outputs = self.compute_outputs(rm, template)
            self.stack_event("IMPORT_COMPLETE")
        self.hold("IMPORT_IN_PROGRESS", hold_events)

    def import_into(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        template_body: str,
        identifiers: dict[str, dict[str, str]],
    ) -> None:
        """Existing resources into an existing stack (the change set checked that the template is the
        stack's resources, unchanged, plus these): the stack's own stay as they are; a resource not found
        rolls the import back to the template the stack had (IMPORT_ROLLBACK_COMPLETE), deleting nothing."""
        s = self.s
        before = (s.template, s.parameters, s.template_body)
        self.stack_event("IMPORT_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        rm = s.rm
        load_template(rm, template, parameters)
        if self._import_each(rm, template, identifiers):
            s.template, s.parameters, s.template_body = template, parameters, template_body
            s.outputs = self.compute_outputs(rm, template)
            self.stack_event("IMPORT_COMPLETE")
        else:
            load_template(rm, before[0], before[1])
        self.hold("IMPORT_IN_PROGRESS", hold_events)

    def _import_each(self, rm: Any, template: dict[str, Any], identifiers: dict[str, dict[str, str]]) -> bool:
        """Import the `identifiers` resources in dependency order; on a failure, forget each one imported
        (the stack's other resources stay), end IMPORT_ROLLBACK_COMPLETE and return False."""
        from moto.cloudformation.parsing import resource_class_from_type

        s = self.s
        done: list[str] = []
        for logical in [n for n in dependency_order(template) if n in identifiers]:
            body = template["Resources"][logical]
            rtype = body.get("Type", "")
            res = Res(logical, rtype, status="IMPORT_IN_PROGRESS")
            s.resources[logical] = res
            done.append(logical)
            self.event(logical, rtype, "IMPORT_IN_PROGRESS")
            try:
                res.props = self.resolve_props(rm, body)
                model: Any = resource_class_from_type(rtype)  # one with cfn_import: the change set checked
                inst = model.cfn_import(identifiers[logical], res.props, s.account_id, s.region)
            except Exception as exc:
                self.fail(res, rtype, "IMPORT_FAILED", reason_of(exc))
                self.stack_event(
                    "IMPORT_ROLLBACK_IN_PROGRESS",
                    f"The following resource(s) failed to import: [{logical}]. ",
                )
                for name in done:
                    s.resources.pop(name, None)
                    rm._parsed_resources.pop(name, None)
                self.stack_event("IMPORT_ROLLBACK_COMPLETE")
                return False
            rm._parsed_resources[logical] = inst
            res.instance, res.physical_id = inst, str(inst.physical_resource_id)
            res.status, res.updated = "IMPORT_COMPLETE", now_utc()
            self.event(logical, rtype, "IMPORT_COMPLETE", res.physical_id)
        return True

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
            load_template(rm, template, parameters)
            for logical in dependency_order(template):
                body = template["Resources"][logical]
                prev = old_resources.get(logical)
                if prev is None:
                    res = self.create_one(rm, logical, body)
                    if res is not None:
                        created.append(res)
                    continue
                self._update_one(rm, logical, body, prev, old_template, created, replaced, updated)
        except (ResourceFailed, AwsError) as exc:
            res = s.resources.get(exc.logical) if isinstance(exc, ResourceFailed) else None
            _, reason = _failure(exc, "create" if res and res.status == "CREATE_FAILED" else "update")
            pending = PendingRollback(
                dict(updated), [(res, template["Resources"][res.logical_id]) for res in created]
            )
            previous = (old_template, old_params, old_body)
            self.roll_back(reason, previous, old_resources, snapshot_parsed, pending)
            self.hold("UPDATE_IN_PROGRESS", hold_events)
            return
        s.template, s.parameters, s.template_body = template, parameters, template_body
        self.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        removed = [n for n in reversed(dependency_order(old_template)) if n not in template["Resources"]]
        for logical in removed:
            res = old_resources.get(logical)
            if res is None:
                continue
            with contextlib.suppress(ResourceFailed):  # AWS carries on too: the update itself succeeded
                self.delete_one(res, old_template["Resources"][logical])
            s.resources.pop(logical, None)
            rm._parsed_resources.pop(logical, None)
        for logical in reversed(dependency_order(old_template)):
            old = replaced.get(logical)
            if old is None:
                continue
            # A replaced resource's old copy goes by its UpdateReplacePolicy (the template applied).
            policy = template["Resources"][logical].get("UpdateReplacePolicy") or "Delete"
            with contextlib.suppress(ResourceFailed):
                self.delete_one(old, {**old_template["Resources"][logical], "DeletionPolicy": policy})
        s.outputs = self.compute_outputs(rm, template)
        self.stack_event("UPDATE_COMPLETE")
        self.hold("UPDATE_IN_PROGRESS", hold_events)

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
            raise self.fail(prev, rtype, "UPDATE_FAILED", reason_of(exc)) from exc
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
                (new_props or {}).get(p) == (prev.props or {}).get(p) for p in CONTAINER_PROPS
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
            except ResourceFailed:
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
                post_update(rtype, inst, new_props, self.s.account_id, self.s.region)
                rm._parsed_resources[logical] = inst
                prev.instance = inst
                prev.physical_id = str(getattr(inst, "physical_resource_id", "") or prev.physical_id)
        except Exception as exc:
            raise self.fail(prev, rtype, "UPDATE_FAILED", reason_of(exc)) from exc
        updated[logical] = before
        prev.props, prev.status, prev.reason, prev.updated = new_props, "UPDATE_COMPLETE", None, now_utc()
        self.event(logical, rtype, "UPDATE_COMPLETE", prev.physical_id)

    def delete(self, retain: set[str]) -> bool:
        s = self.s
        self.stack_event("DELETE_IN_PROGRESS", "User Initiated")
        hold_events = len(s.events)
        template = s.template
        failed: list[str] = []
        blocked: set[str] = set()
        dependents = dependents_of(template) if template else {}
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
            except ResourceFailed:
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
            self.hold("DELETE_IN_PROGRESS", hold_events)
            return False
        self.stack_event("DELETE_COMPLETE")
        s.deleted = now_utc()
        self.hold("DELETE_IN_PROGRESS", hold_events)
        return True

    def hold(self, status: str, n_events: int) -> None:
        if faults.latency(faults.STACK_SECONDS) > 0:
            self.s.hold = (time.monotonic(), status, n_events)
            faults.record_fired("latency")


def _failure(exc: ResourceFailed | AwsError, verb: str) -> tuple[str | None, str]:
    """(failed logical id or None, stack status reason) of a create or update that failed."""
    failed = exc.logical if isinstance(exc, ResourceFailed) else None
    reason = (
        f"The following resource(s) failed to {verb}: [{failed}]. "
        if failed
        else (exc.message if isinstance(exc, AwsError) else str(exc))
    )
    return failed, reason
