"""Errors a handler raises to answer with an AWS error; the dispatcher renders them per protocol."""

from __future__ import annotations


class AwsError(Exception):
    """Raise from a handler (or anything it calls) to answer with an AWS error in the wire format."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
