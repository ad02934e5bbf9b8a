"""Lake Formation's errors, one class per AWS error code (the lakeformation botocore model's error shapes)."""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class InvalidInputException(ServiceError):
    """A request Lake Formation refuses: a bad ARN, catalog id, resource, principal or permission list."""

    CODE = "InvalidInputException"


class EntityNotFoundException(ServiceError):
    """No such registered resource, or a grant's database or table does not exist."""

    CODE = "EntityNotFoundException"


class AlreadyExistsException(ServiceError):
    """RegisterResource on a resource that is registered already."""

    CODE = "AlreadyExistsException"
