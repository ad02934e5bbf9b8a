"""The emulator tests' shared helpers: the setup by hand (emulator/by_hand.py, shared with bench), and the
reads and errors the tests check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.by_hand import (
    ACCOUNT,
    FED_ID,
    FIREHOSE_POLICY,
    FIREHOSE_TRUST,
    NAMESPACE,
    REGION,
    catalog_id,
    create_firehose_role,
    create_s3tables_catalog,
    create_table,
    grant_tables,
    iam_principal,
    iceberg_destination,
)

__all__ = [
    "ACCOUNT",
    "FED_ID",
    "FIREHOSE_POLICY",
    "FIREHOSE_TRUST",
    "NAMESPACE",
    "REGION",
    "catalog_id",
    "create_firehose_role",
    "create_s3tables_catalog",
    "create_table",
    "error_code",
    "federated_catalog_input",
    "grant_tables",
    "iam_principal",
    "iceberg_destination",
    "metric_sum",
]


def metric_sum(emu: Any, metric: str, stream: str, now: datetime | None = None) -> float:
    """The Sum of one AWS/Firehose metric of one stream over the last minutes, as CloudWatch returns it."""
    now = now or datetime.now(UTC)
    points = emu.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Firehose",
        MetricName=metric,
        Dimensions=[{"Name": "DeliveryStreamName", "Value": stream}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def federated_catalog_input() -> dict[str, Any]:
    return {
        "FederatedCatalog": {"Identifier": FED_ID, "ConnectionName": "aws:s3tables"},
        "CreateDatabaseDefaultPermissions": [],
        "CreateTableDefaultPermissions": [],
        "CatalogProperties": {"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}},
    }
