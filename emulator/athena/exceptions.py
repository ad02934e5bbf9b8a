"""Athena's errors, one class per code of the botocore athena model's error shapes.

Athena answers almost every refusal of a request with ``InvalidRequestException`` (a bad or missing
member, an unknown workgroup or query execution, a query not finished); a query that fails once accepted is
not an error of the call but the execution's ``FAILED`` state (models.py).
"""

from __future__ import annotations

from emulator.core.exceptions import ServiceError


class InvalidRequestException(ServiceError):
    """Something is wrong with the request's input: a member, a name, a state that does not allow it."""

    CODE = "InvalidRequestException"


class TooManyRequestsException(ServiceError):
    """More queries at once than the account may run (Athena's active DML queries quota)."""

    CODE = "TooManyRequestsException"
