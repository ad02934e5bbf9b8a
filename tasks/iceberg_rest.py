"""The S3 Tables Iceberg REST endpoint for the tool: lake/iceberg_rest.py on the run's Clients.

The run's session signs every request and counts it like every other AWS call (GetConfig, LoadTable,
UpdateTable), in the env's region, beside the S3 Tables endpoint the env's clients use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake import iceberg_rest
from lake.iceberg_rest import NOT_FOUND, SIGNING_NAME, rest_uri

if TYPE_CHECKING:
    from tasks.aws import Clients

__all__ = ["NOT_FOUND", "SIGNING_NAME", "IcebergRest", "rest_uri"]


class IcebergRest(iceberg_rest.IcebergRest):
    """One warehouse (table bucket) of the endpoint, for one run."""

    def __init__(self, clients: Clients, warehouse: str) -> None:
        super().__init__(
            clients.session, clients.config.region, str(clients.s3tables.meta.endpoint_url), warehouse
        )
        self.clients = clients
