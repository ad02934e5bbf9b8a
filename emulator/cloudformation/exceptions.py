"""The CloudFormation engine's errors: each a ``ServiceError`` with CloudFormation's code and HTTP status."""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class CloudFormationError(ServiceError):
    """An error CloudFormation answers with; subclasses name the code and the status."""


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
