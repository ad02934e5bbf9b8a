"""Read a table's Iceberg schema and partition spec, the way the environment allows.

First the Iceberg metadata itself (s3tables GetTableMetadataLocation + pyiceberg StaticTable), which on
real AWS needs the warehouse reachable with the caller's credentials; then Glue GetTable on the table
bucket's child catalog with LATEST_ICEBERG_METADATA, which needs only Lake Formation DESCRIBE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.config import Config
from tasks.doctor import deploy_command
from tasks.errors import error_code
from verify import expect


@dataclass(frozen=True)
class TableShape:
    columns: tuple[tuple[int, str, str, bool], ...]  # (id, name, iceberg type, required)
    partition: tuple[tuple[str, str], ...]  # (source column, transform)
    source: str  # where it was read from, for failure messages


def _fileio_properties(clients: Clients, config: Config) -> dict[str, str]:
    props: dict[str, str] = {"s3.region": config.region}
    creds = clients.session.get_credentials()
    frozen = creds.get_frozen_credentials() if creds is not None else None
    if frozen is not None and frozen.access_key and frozen.secret_key:
        props["s3.access-key-id"] = frozen.access_key
        props["s3.secret-access-key"] = frozen.secret_key
        if frozen.token:
            props["s3.session-token"] = frozen.token
    if config.endpoint and not config.is_local:
        props["s3.endpoint"] = config.endpoint
    return props


def metadata_location(clients: Clients, config: Config, account_id: str, signal: str) -> str:
    resp = clients.s3tables.get_table_metadata_location(
        tableBucketARN=expect.table_bucket_arn(config, account_id), namespace=config.namespace, name=signal
    )
    return str(resp["metadataLocation"])


def static_table(clients: Clients, config: Config, account_id: str, signal: str) -> Any:
    from pyiceberg.table import StaticTable

    location = metadata_location(clients, config, account_id, signal)
    return StaticTable.from_metadata(location, properties=_fileio_properties(clients, config))


def _from_iceberg(clients: Clients, config: Config, account_id: str, signal: str) -> TableShape:
    table = static_table(clients, config, account_id, signal)
    schema = table.schema()
    cols = tuple((f.field_id, f.name, str(f.field_type), f.required) for f in schema.fields)
    names = {f.field_id: f.name for f in schema.fields}
    part = tuple((names.get(p.source_id, f"#{p.source_id}"), str(p.transform)) for p in table.spec().fields)
    return TableShape(cols, part, "Iceberg metadata (s3tables GetTableMetadataLocation)")


def _from_glue(clients: Clients, config: Config, account_id: str, signal: str) -> TableShape:
    resp = clients.glue.get_table(
        CatalogId=expect.bucket_catalog_id(config, account_id),
        DatabaseName=config.namespace,
        Name=signal,
        AttributesToGet=["DEFAULT", "LATEST_ICEBERG_METADATA"],
    )
    table = resp["Table"]
    meta = table.get("IcebergTableMetadata") or {}
    schemas = {s.get("SchemaId"): s for s in meta.get("Schemas", [])}
    current = schemas.get(meta.get("CurrentSchemaId")) or (meta.get("Schemas") or [None])[-1]
    if current:
        fields = current.get("Fields", [])
        cols = tuple((int(f["Id"]), f["Name"], str(f["Type"]), bool(f.get("Required"))) for f in fields)
        names = {int(f["Id"]): f["Name"] for f in fields}
        specs = {s.get("SpecId"): s for s in meta.get("PartitionSpecs", [])}
        spec = specs.get(meta.get("DefaultSpecId")) or {"Fields": []}
        part = tuple(
            (names.get(int(p["SourceId"]), f"#{p['SourceId']}"), str(p["Transform"])) for p in spec["Fields"]
        )
        return TableShape(cols, part, "Glue GetTable LATEST_ICEBERG_METADATA")
    # Hive-style view only: columns without ids or nullability, no partition spec.
    sd_cols = table.get("StorageDescriptor", {}).get("Columns", [])
    cols = tuple((0, c["Name"], c.get("Type", "?"), False) for c in sd_cols)
    return TableShape(cols, (("?", "unknown: Glue returned no Iceberg metadata"),), "Glue GetTable columns")


def table_shape(clients: Clients, config: Config, account_id: str, signal: str) -> TableShape:
    try:
        return _from_iceberg(clients, config, account_id, signal)
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        bucket = expect.table_bucket_arn(config, account_id)
        raise AssertionError(
            f"table {config.namespace}.{signal} does not exist in {bucket}: run `{deploy_command(config)}`"
        ) from None
    except Exception as first:
        if config.is_local:
            raise  # the emulator's warehouse is always readable: a failure here is a real finding
        try:
            return _from_glue(clients, config, account_id, signal)
        except Exception as second:
            raise AssertionError(
                f"cannot read table {config.namespace}.{signal}: Iceberg metadata: {first}; Glue: {second}"
            ) from second
