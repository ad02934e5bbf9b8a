"""The CloudFormation engine's state: stacks, their resources and change sets, per account and region.

A stack is kept after its delete (by id, with ``deleted`` set), as AWS lists and describes deleted stacks.
``Stack.hold`` is the ``latency`` fault: every read sees the stack ``*_IN_PROGRESS`` while ``faults.held``
says so (the latency's current value, so a test can end a hold when it chooses).
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.admin import faults
from emulator.cloudformation.exceptions import ChangeSetNotFound, ValidationError
from emulator.core.state import RegionalState

SVC = "cloudformation"


lock = threading.RLock()


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# -- records ---------------------------------------------------------------------------------------


@dataclass
class Res:
    logical_id: str
    type: str
    instance: Any = None
    physical_id: str = ""
    status: str = ""
    reason: str | None = None
    updated: datetime.datetime = field(default_factory=now_utc)
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
    # IMPORT: logical id -> the resource's identifier (its type schema's primaryIdentifier properties)
    to_import: dict[str, dict[str, str]] = field(default_factory=dict)
    status: str = "CREATE_COMPLETE"
    execution_status: str = "AVAILABLE"
    reason: str | None = None
    created: datetime.datetime = field(default_factory=now_utc)


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
    created: datetime.datetime = field(default_factory=now_utc)
    updated: datetime.datetime | None = None
    deleted: datetime.datetime | None = None
    disable_rollback: bool = False
    termination_protection: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Res] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    rm: Any = None
    change_set_id: str | None = None
    # latency fault: (when it began, status shown while held, number of events shown while held)
    hold: tuple[float, str, int] | None = None
    # UPDATE_ROLLBACK_FAILED: what the rollback still has to do (rollback.PendingRollback)
    rollback: Any = None

    def _release(self) -> None:
        if self.hold is not None and not faults.held(self.hold[0], faults.STACK_SECONDS):
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
class State:
    stacks: dict[str, Stack] = field(default_factory=dict)  # by id, live and deleted
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)


state = RegionalState(State, lock)


def find_stack(st: State, name_or_id: str, include_deleted: bool = False) -> Stack | None:
    if name_or_id in st.stacks:
        s = st.stacks[name_or_id]
        return s
    for s in st.stacks.values():
        if s.name == name_or_id and s.deleted is None:
            return s
    return None


def existing_stack(st: State, name_or_id: str, missing: str, include_deleted: bool = False) -> Stack:
    """The stack, or ``missing`` as a ValidationError: a deleted stack is found by its id only."""
    s = find_stack(st, name_or_id, include_deleted=include_deleted)
    if s is None or (s.deleted is not None and s.id != name_or_id):
        raise ValidationError(missing)
    return s


def live_stack(st: State, name_or_id: str) -> Stack:
    return existing_stack(st, name_or_id, f"Stack with id {name_or_id} does not exist")


def present(item: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value (the API leaves the others out)."""
    return {k: v for k, v in item.items() if v is not None}


def find_change_set(st: State, name_or_id: str, stack_name: str | None) -> ChangeSet:
    if name_or_id in st.change_sets:
        return st.change_sets[name_or_id]
    stack = find_stack(st, stack_name) if stack_name else None
    for cs in st.change_sets.values():
        if cs.name == name_or_id and (stack is None or cs.stack_id == stack.id):
            return cs
    raise ChangeSetNotFound(f"ChangeSet [{name_or_id}] does not exist")


def stack_exports(account_id: str, region: str) -> dict[str, Any]:
    from moto.cloudformation.parsing import Export

    out: dict[str, Any] = {}
    for s in state(account_id, region).stacks.values():
        if s.deleted is not None:
            continue
        for o in s.outputs:
            if o.get("ExportName"):
                out[o["ExportName"]] = Export(s.id, o["ExportName"], o["OutputValue"])
    return out
