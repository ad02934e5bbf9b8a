"""moto 5.2.5 fix: a stack created or updated through ExecuteChangeSet keeps stale (empty) Outputs.

AWS evaluates the template's Outputs after every execution; moto only does so in CreateStack/UpdateStack.
Added by the deploy engineer (tasks/steps/stack.py reads FirehoseRoleArn etc. from DescribeStacks).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import CloudFormationBackend

_original = CloudFormationBackend.execute_change_set


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> Any:
    result = _original(self, change_set_name, stack_name)
    change_set = self.change_sets.get(change_set_name) or next(
        (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
    )
    if change_set is not None and change_set.stack_id in self.stacks:
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
    return result


if not getattr(CloudFormationBackend.execute_change_set, "_emulator_patched", False):
    _execute_change_set._emulator_patched = True  # type: ignore[attr-defined]
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
