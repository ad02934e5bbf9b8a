"""S3 Tables errors as the API answers them (moto's own exception classes are for its responses)."""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class ConflictError(ServiceError):
    """409 ``ConflictException``: a non-empty bucket or namespace, or a name in its transitional state."""

    CODE = "ConflictException"
    STATUS = 409


class BadRequestError(ServiceError):
    """400 ``BadRequestException``: e.g. an Iceberg schema that cannot be a table."""

    CODE = "BadRequestException"


class NotFoundError(ServiceError):
    """404 ``NotFoundException``: the bucket, namespace or table does not exist."""

    CODE = "NotFoundException"
    STATUS = 404
