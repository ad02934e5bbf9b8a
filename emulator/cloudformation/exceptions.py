"""The CloudFormation engine's errors."""

from __future__ import annotations

from emulator.overrides import AwsError


def err(message: str, code: str = "ValidationError", status: int = 400) -> AwsError:
    return AwsError(code, message, status)


class ResourceFailed(Exception):
    def __init__(self, logical: str) -> None:
        super().__init__(logical)
        self.logical = logical
