"""Firehose's errors, one class per AWS error code (the firehose botocore model's error shapes)."""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class ResourceNotFoundException(ServiceError):
    """No such stream, or one not ACTIVE that is sent records."""

    CODE = "ResourceNotFoundException"


class ResourceInUseException(ServiceError):
    """The stream exists already, or is in a state the operation cannot act on."""

    CODE = "ResourceInUseException"


class InvalidArgumentException(ServiceError):
    """A request AWS understands but refuses: a configuration, region or limit it does not support."""

    CODE = "InvalidArgumentException"


class ConcurrentModificationException(ServiceError):
    """UpdateDestination with a CurrentDeliveryStreamVersionId that is no longer current."""

    CODE = "ConcurrentModificationException"


class LimitExceededException(ServiceError):
    """More than 50 tags on a stream."""

    CODE = "LimitExceededException"


class ValidationException(ServiceError):
    """AWS's front end on input that breaks the model's constraints (a common error, not in the model)."""

    CODE = "ValidationException"


class SerializationException(ServiceError):
    """AWS's front end on a body it cannot deserialize, e.g. a blob that is not base64 (a common error)."""

    CODE = "SerializationException"
