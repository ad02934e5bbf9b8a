"""One delivery attempt of a Firehose batch into its Iceberg table: checks, conversion, commit, metrics."""

from __future__ import annotations

import logging
from typing import Any

from emulator.cloudwatch import metrics as cloudwatch_metrics
from emulator.firehose.access import check_access
from emulator.firehose.data import METRIC_NAMESPACE, DeliveryStream, Failure, Pending, now_ms
from emulator.firehose.error_output import log_errors, write_errors
from emulator.firehose.errors import ERR_CATALOG, ERR_COMMIT, ERR_NO_TABLE
from emulator.firehose.records import RecordConverter
from emulator.iam.policy import partition_of
from emulator.iceberg.schema import bucket_arn
from emulator.iceberg.store import get_store

log = logging.getLogger("emulator.firehose")


def parse_catalog_arn(arn: str) -> tuple[str, str] | None:
    """``arn:aws:glue:REGION:ACCOUNT:catalog/s3tablescatalog/BUCKET`` -> (account, bucket)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "glue":
        return None
    resource = parts[5].split("/")
    if len(resource) != 3 or resource[0] != "catalog" or resource[1] != "s3tablescatalog" or not resource[2]:
        return None
    return parts[4], resource[2]


def deliver_batch(
    stream: DeliveryStream,
    config: dict[str, Any],
    version: int,
    items: list[Pending],
    attempts: int = 1,
    final: bool = True,
) -> tuple[int, int, list[Pending]]:
    """One attempt at ``items``: (rows landed, records sent to the error bucket, records to retry).

    Record-level failures go to the error bucket at once; failures of the destination itself (role,
    catalog, grants, table, commit) are retried unless this attempt is ``final``. Every failed attempt logs
    its errors to CloudWatch Logs, as AWS does while it retries.
    """
    tables = config.get("DestinationTableConfigurationList") or []
    catalog = parse_catalog_arn(str((config.get("CatalogConfiguration") or {}).get("CatalogARN", "")))
    failures: list[Failure] = []  # record-level: to the error bucket at once
    destination_failures: list[Failure] = []  # the destination's: retried until the retry window ends
    ok_rows = 0
    ok_bytes = 0
    commits = 0
    problem: tuple[str, str] | None = None
    if catalog is None:
        problem = (
            ERR_CATALOG,
            "CatalogConfiguration.CatalogARN must name an S3 Tables catalog: "
            "arn:aws:glue:REGION:ACCOUNT:catalog/s3tablescatalog/BUCKET.",
        )
    elif not tables:
        problem = (ERR_NO_TABLE, "No DestinationTableConfigurationList entry: no table to deliver to.")
    if problem is None and catalog is not None:
        # Only one table per stream is routed here: no JQ / Lambda / metadata routing in the emulator.
        database = str(tables[0]["DestinationDatabaseName"])
        table = str(tables[0]["DestinationTableName"])
        problem = check_access(
            stream, str(config.get("RoleARN", "")), catalog[0], catalog[1], database, table, config
        )
        if problem is None:
            store = get_store()
            bucket = bucket_arn(partition_of(stream.region), stream.region, catalog[0], catalog[1])
            try:
                schema = store.schema(bucket, database, table)
            except Exception:
                problem = (
                    ERR_NO_TABLE,
                    f"Table {database}.{table} not found in catalog "
                    f"{catalog[0]}:s3tablescatalog/{catalog[1]}.",
                )
            else:
                converter = RecordConverter(schema)
                arrow = converter.fast(items)
                landed = items
                if arrow is None:
                    good, bad = converter.convert(items)
                    failures.extend(bad)
                    landed = [it for it, _ in good]
                    arrow = converter.to_arrow(good) if good else None
                if arrow is not None:
                    try:
                        store.append(bucket, database, table, arrow)
                    except Exception as exc:
                        log.exception("Iceberg commit to %s.%s failed", database, table)
                        destination_failures = [
                            Failure(it, ERR_COMMIT, f"Iceberg commit failed: {exc}") for it in landed
                        ]
                    else:
                        commits = 1
                        ok_rows = len(landed)
                        ok_bytes = sum(len(it.data) for it in landed)
    if problem is not None:
        failures, destination_failures = [], [Failure(it, problem[0], problem[1]) for it in items]
    again: list[Pending] = []
    if destination_failures and not final:
        again = [f.item for f in destination_failures]
        log_errors(stream, config, version, destination_failures)
    else:
        failures += destination_failures
    if failures:
        write_errors(stream, config, version, failures, attempts)
    oldest = min(it.arrival_ms for it in items)
    cloudwatch_metrics.put(
        stream.account_id,
        stream.region,
        METRIC_NAMESPACE,
        {"DeliveryStreamName": stream.name},
        {
            "DeliveryToIceberg.IncomingRowCount": (len(items) if attempts == 1 else 0, "Count"),
            "DeliveryToIceberg.SuccessfulRowCount": (ok_rows, "Count"),
            "DeliveryToIceberg.FailedRowCount": (len(failures), "Count"),
            "DeliveryToIceberg.Success": (commits, "Count"),
            "DeliveryToIceberg.Bytes": (ok_bytes, "Bytes"),
            "DeliveryToIceberg.DataFreshness": (max(0.0, (now_ms() - oldest) / 1000.0), "Seconds"),
        },
    )
    return ok_rows, len(failures), again
