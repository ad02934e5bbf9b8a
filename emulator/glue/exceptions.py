"""Glue's errors, one class per AWS error code (the glue botocore model's error shapes)."""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class EntityNotFoundException(ServiceError):
    """No such catalog (or child catalog), database or table."""

    CODE = "EntityNotFoundException"


class InvalidInputException(ServiceError):
    """A name, ``CatalogInput`` or catalog id Glue refuses."""

    CODE = "InvalidInputException"


class AlreadyExistsException(ServiceError):
    """A catalog of that name exists already."""

    CODE = "AlreadyExistsException"


class FederatedResourceAlreadyExistsException(ServiceError):
    """Another catalog federates the same resource (``FederatedCatalog.Identifier``)."""

    CODE = "FederatedResourceAlreadyExistsException"


class AccessDeniedException(ServiceError):
    """Lake Formation refuses the caller the metadata of a governed database or table."""

    CODE = "AccessDeniedException"
