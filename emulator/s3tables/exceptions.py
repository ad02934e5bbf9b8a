"""S3 Tables errors as the API answers them (moto's own exception classes are for its responses)."""

from __future__ import annotations

from emulator.core.exceptions import AwsError


class ConflictError(AwsError):
    """409 ``ConflictException``: a non-empty bucket or namespace, or a name in its transitional state."""

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message, 409)


class BadRequestError(AwsError):
    """400 ``BadRequestException``: e.g. an Iceberg schema that cannot be a table."""

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message, 400)
