"""Lambda's errors, rendered by the dispatcher in rest-json (``x-amzn-ErrorType`` and a JSON body)."""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError

from emulator.core.exceptions import AwsError

_STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceConflictException": 409,
    "TooManyRequestsException": 429,
    "RequestTooLargeException": 413,
    "InvalidRuntimeException": 502,
    "PreconditionFailedException": 412,
    "AccessDeniedException": 403,
}


class LambdaError(AwsError):
    """An AWS Lambda error; the status defaults to the one AWS uses for the code (else 400)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code, message, status if status is not None else _STATUS.get(code, 400))


def from_moto(exc: JsonRESTError) -> LambdaError:
    """moto's lambda exception as ours (same code, message and status)."""
    status = int(getattr(exc, "code", 400) or 400)
    return LambdaError(str(exc.error_type), str(exc.message), status)


def not_found(arn: str) -> LambdaError:
    return LambdaError("ResourceNotFoundException", f"Function not found: {arn}")
