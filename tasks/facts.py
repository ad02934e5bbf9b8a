"""What one run learned, for the steps after: the stack's outputs and what this run created.

A step's observe() (through `Step.publish`) or apply() sets a field here; a later step reads the field.
The deploy graph orders every writer before its readers (tasks/steps/__init__.py), and each write is
a single attribute assignment, so the steps' threads need no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLE_OUTPUT = "FirehoseRoleArn"  # the stack output naming the Firehose delivery role


@dataclass
class Facts:
    """One run's record. `stack_outputs` stays empty until the stack step has read a usable stack."""

    stack_outputs: dict[str, str] = field(default_factory=dict)
    # The template the stack holds: the deployed one as read, then the rendered one once this run's create or
    # update completed. The steps that repair drift outside CloudFormation (alarms, the roles' policies, the
    # retention schedule) compare the live resources with it, so a config change is the stack's change alone.
    stack_template: dict[str, Any] | None = None
    stack_changed: bool = False  # the stack was created or updated in this run: its role may be new
    stack_created: bool = False  # ... created (or re-created): its tables have no grants yet
    lf_role_created: bool = False  # the Lake Formation role is new: IAM may not know it yet
    catalog_created: bool = False  # s3tablescatalog is new: no grant on it yet

    @property
    def firehose_role_arn(self) -> str | None:
        """The stack's Firehose role, or None while the stack is not read (or has no such output)."""
        return self.stack_outputs.get(ROLE_OUTPUT) or None
