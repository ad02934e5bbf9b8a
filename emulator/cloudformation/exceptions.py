"""The CloudFormation engine's errors: each an ``AwsError`` with CloudFormation's code and HTTP status."""

from __future__ import annotations

from typing import ClassVar

from emulator.core.exceptions import AwsError


class CloudFormationError(AwsError):
    """An error CloudFormation answers with; subclasses name the code and the status."""

    CODE: ClassVar[str]
    STATUS: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message, self.STATUS)


class ValidationError(CloudFormationError):
    """What CloudFormation answers to most bad requests (bad template, unknown stack, wrong state)."""

    CODE = "ValidationError"


class AlreadyExistsException(CloudFormationError):
    CODE = "AlreadyExistsException"


class InsufficientCapabilitiesException(CloudFormationError):
    CODE = "InsufficientCapabilitiesException"


class ChangeSetNotFound(CloudFormationError):
    CODE = "ChangeSetNotFound"
    STATUS = 404


class InvalidChangeSetStatus(CloudFormationError):
    CODE = "InvalidChangeSetStatus"


class NotSupported(CloudFormationError):
    """A resource type moto has no model for: the resource fails, as an unsupported handler would."""

    CODE = "NotSupported"


class NotImplementedOperation(CloudFormationError):
    """An operation on a stack the engine does not implement (moto's answer would be wrong)."""

    CODE = "NotImplemented"
    STATUS = 501


class ResourceFailed(Exception):
    """One resource failed (its event and reason are recorded); the stack operation turns it around."""

    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.logical = logical
