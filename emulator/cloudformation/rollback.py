"""An update's rollback as CloudFormation runs it, and ContinueUpdateRollback.

A failed update sets every resource it changed back to the previous template's properties, resolved
against the previous parameters, in reverse dependency order (``UPDATE_ROLLBACK_IN_PROGRESS``, one
``UPDATE_IN_PROGRESS`` + ``UPDATE_COMPLETE`` event each). When one cannot be set back, e.g. an
``AWS::Lambda::Function`` whose previous ``Code.S3Key`` is gone, that resource ends ``UPDATE_FAILED`` with
the handler's reason and the stack ``UPDATE_ROLLBACK_FAILED`` ("The following resource(s) failed to update:
[...]"), as on AWS (aws-facts.md, "Rollbacks re-read old artifacts"); the resources the update created wait
for the rollback to finish. Such a stack takes no update, only ``ContinueUpdateRollback``: it tries the
failed resources again, except those named in ``ResourcesToSkip``, which are marked ``UPDATE_COMPLETE`` with
the previous template's properties although the live resource keeps what the update gave it. Only when
every resource is back does the cleanup (``UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS``) delete what the
update created, and the stack end ``UPDATE_ROLLBACK_COMPLETE``.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any

from emulator.cloudformation.exceptions import ResourceFailed, ValidationError
from emulator.cloudformation.models import Res, now_utc
from emulator.cloudformation.provision import Provisioner, load_template, reason_of
from emulator.cloudformation.resources.iam import post_update
from emulator.cloudformation.template import dependency_order

ROLLBACK_FAILED = "UPDATE_ROLLBACK_FAILED"


@dataclass
class PendingRollback:
    """What a rollback still has to do: the resources to set back (logical id -> the record before the
    update), and the resources the update created (with their template bodies), deleted in the cleanup."""

    restore: dict[str, Res] = field(default_factory=dict)
    created: list[tuple[Res, dict[str, Any]]] = field(default_factory=list)


class Rollback(Provisioner):
    """A failed update's rollback: ``Engine`` (engine.py) starts it, ContinueUpdateRollback resumes it."""

    def roll_back(
        self,
        reason: str,
        previous: tuple[dict[str, Any], dict[str, str], str],
        resources: dict[str, Res],
        parsed: dict[str, Any],
        pending: PendingRollback,
    ) -> None:
        """Start the rollback: the previous template, parameters and resource records are the stack's
        again (what GetTemplate and DescribeStackResources show), then each changed resource is set back."""
        s = self.s
        self.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        template, params, body = previous
        s.rm._parsed_resources.clear()
        s.rm._parsed_resources.update(parsed)
        load_template(s.rm, template, params)  # Ref and GetAtt resolve as the previous template did
        s.template, s.parameters, s.template_body = template, params, body
        s.resources = {**resources, **pending.restore}
        s.rollback = pending
        self.resume(set())

    def resume(self, skip: set[str]) -> None:
        """Set back what is left (``skip``: marked done without a call), then clean up or stop failed."""
        s = self.s
        pending: PendingRollback = s.rollback
        failed: list[str] = []
        order = [n for n in reversed(dependency_order(s.template)) if n in pending.restore]
        for logical in order:
            before = pending.restore[logical]
            res = s.resources[logical] = before
            if logical in skip:
                res.status, res.reason, res.updated = "UPDATE_COMPLETE", None, now_utc()
                self.event(logical, res.type, "UPDATE_COMPLETE", res.physical_id, "Resource update skipped.")
                del pending.restore[logical]
                continue
            self.event(logical, res.type, "UPDATE_IN_PROGRESS", res.physical_id)
            try:
                self._set_back(before, s.template["Resources"][logical])
            except Exception as exc:
                self.fail(res, res.type, "UPDATE_FAILED", reason_of(exc))
                failed.append(logical)
                continue
            res.status, res.reason, res.updated = "UPDATE_COMPLETE", None, now_utc()
            self.event(logical, res.type, "UPDATE_COMPLETE", res.physical_id)
            del pending.restore[logical]
        if failed:
            names = ", ".join(sorted(failed))
            self.stack_event(ROLLBACK_FAILED, f"The following resource(s) failed to update: [{names}]. ")
            return
        self.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        for res, body in reversed(pending.created):
            with contextlib.suppress(ResourceFailed):  # AWS carries on: the rollback itself is done
                self.delete_one(res, body, creating=True)  # made by the update that rolls back
        s.rollback = None
        self.stack_event("UPDATE_ROLLBACK_COMPLETE")

    def _set_back(self, before: Res, body: dict[str, Any]) -> None:
        from moto.cloudformation.parsing import parse_and_update_resource

        s = self.s
        inst = parse_and_update_resource(before.logical_id, copy.deepcopy(body), s.rm, s.account_id, s.region)
        if inst is not None:
            post_update(before.type, inst, before.props, s.account_id, s.region)
            s.rm._parsed_resources[before.logical_id] = inst
            before.instance = inst


def check_skippable(status: str, pending: PendingRollback | None, skip: list[str], stack_id: str) -> None:
    """ContinueUpdateRollback's checks: the stack is UPDATE_ROLLBACK_FAILED, and each resource to skip is
    one whose rollback failed (not one that failed for another reason, nor an unknown name)."""
    if status != ROLLBACK_FAILED or pending is None:
        raise ValidationError(
            f"Stack:{stack_id} is in {status} state and can not continue its update rollback: "
            f"only a stack in {ROLLBACK_FAILED} can."
        )
    wrong = [n for n in skip if n not in pending.restore]
    if wrong:
        raise ValidationError(
            f"ResourcesToSkip [{', '.join(wrong)}] cannot be skipped: only resources in UPDATE_FAILED "
            f"because the rollback failed can be, here [{', '.join(sorted(pending.restore))}]"
        )
