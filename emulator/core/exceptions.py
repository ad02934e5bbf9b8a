"""Errors a handler raises to answer with an AWS error; the dispatcher renders them per protocol."""

from __future__ import annotations

from typing import ClassVar


class AwsError(Exception):
    """Raise from a handler (or anything it calls) to answer with an AWS error in the wire format."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ServiceError(AwsError):
    """One AWS error code as a class (moto's layout: a service's exceptions.py subclasses it per code).

    Subclasses set ``CODE`` (the botocore model's error shape name) and, when it is not 400, ``STATUS``.
    """

    CODE: ClassVar[str]
    STATUS: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message, self.STATUS)
