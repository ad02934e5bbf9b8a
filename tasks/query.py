"""DuckDB over the env's Iceberg tables: one view per signal, read-only, no download ever (the engine
`doit query engine=duckdb` runs, tasks/engines/duckdb.py; and the one read-only check every engine makes).

Each table's current metadata file comes from S3 Tables' GetTableMetadataLocation (one read per table,
through the same boto3 session as every other command); DuckDB's `iceberg` extension scans it. Locally
the warehouse is on disk (`file://`); on AWS it is `s3://`, read through `httpfs` + `aws` with a secret
made of the session's own credentials and region.

The extensions come from the pinned `duckdb-extension-*` packages and are LOADed by file path, with
autoinstall and autoload off, so no machine ever fetches an extension at run time.

Read-only, twice over: the SQL must parse (DuckDB's own parser) into one SELECT (or EXPLAIN of one), and
the connection itself can only reach the tables' warehouse locations (`enable_external_access=false` with
`allowed_directories`), with its configuration locked, so COPY/ATTACH/INSTALL cannot touch anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from lake import duckdb_extensions, duckdb_trino
from lake.signals import ALL_SIGNALS
from tasks.engines.base import QueryError, Result, Statement
from tasks.engines.readonly import check, check_sql, check_tables, first_line
from tasks.errors import NotDeployed, StepFailed, UserError

if TYPE_CHECKING:  # duckdb loads lazily: the other commands never need it
    import duckdb

    from tasks.aws import Clients
    from tasks.config import Config

# The extensions every query needs, and the two an s3:// warehouse adds.
LOCAL_EXTENSIONS = ("avro", "iceberg")
S3_EXTENSIONS = ("httpfs", "aws")
_NOT_FOUND = ("NotFoundException", "NoSuchBucket", "NoSuchNamespace", "NoSuchTable")


@dataclass(frozen=True)
class TableRef:
    """Where one signal's table is: its current metadata file and its warehouse (for the sandbox)."""

    signal: str
    metadata_location: str
    warehouse_location: str


@dataclass(frozen=True)
class S3Credentials:
    """The session's frozen credentials, only ever put into a DuckDB secret (never printed)."""

    access_key: str
    secret_key: str
    token: str | None
    region: str
    endpoint: str | None = None  # an S3-compatible endpoint other than AWS's own


def list_bucket(clients: Clients, config: Config) -> dict[str, list[str]] | None:
    """Every table of the env's table bucket, by namespace (namespace -> sorted names), from one ListTables
    with no namespace filter (paginated): the env's namespace and any namespace it left, for the price of
    one read. None when the bucket does not exist."""
    found: dict[str, list[str]] = {}
    kwargs: dict[str, Any] = {"tableBucketARN": config.table_bucket_arn(clients.account_id)}
    try:
        while True:
            page = clients.s3tables.list_tables(**kwargs)
            for table in page.get("tables", []):
                found.setdefault(table["namespace"][0], []).append(table["name"])
            if not page.get("continuationToken"):
                return {ns: sorted(names) for ns, names in sorted(found.items())}
            kwargs["continuationToken"] = page["continuationToken"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
            return None
        raise


def in_namespace(config: Config, bucket: dict[str, list[str]] | None) -> list[str] | None:
    """The tables of the env's namespace in a bucket listing (list_bucket); None when there is no bucket."""
    return None if bucket is None else list(bucket.get(config.namespace, []))


def list_tables(clients: Clients, config: Config) -> list[str] | None:
    """Every table of the env's namespace, sorted (one ListTables of the bucket, list_bucket); None when
    the bucket does not exist, [] when the namespace holds none or does not exist."""
    return in_namespace(config, list_bucket(clients, config))


def env_tables(config: Config, listed: Sequence[str] | None) -> list[str]:
    """The env's tables: its signals' in config order, then the kept ones (tables of signals that left the
    config, still in the namespace: tasks/steps/kept_tables.py)."""
    kept = [t for t in listed or () if t in ALL_SIGNALS and t not in config.signals]
    return [*config.signals, *kept]


def elsewhere(config: Config, bucket: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """The signals' tables in the bucket's other namespaces (a namespace the env wrote before its
    `namespace` changed): namespace -> names. A table whose name is no signal's is someone else's."""
    return {
        ns: signal_tables
        for ns, names in (bucket or {}).items()
        if ns != config.namespace and (signal_tables := [n for n in names if n in ALL_SIGNALS])
    }


def locate(clients: Clients, config: Config, names: Sequence[str] | None = None) -> list[TableRef]:
    """One GetTableMetadataLocation per table (`names`, or the env's tables: one ListTables more); a
    missing bucket, namespace or signal table: not deployed."""
    if names is None:
        names = env_tables(config, list_tables(clients, config))
    arn = config.table_bucket_arn(clients.account_id)
    refs = []
    for signal in names:
        try:
            resp = clients.s3tables.get_table_metadata_location(
                tableBucketARN=arn, namespace=config.namespace, name=signal
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise not_deployed(config, signal) from None
            raise
        if not resp.get("metadataLocation"):
            raise not_deployed(config, signal)
        refs.append(TableRef(signal, resp["metadataLocation"], resp.get("warehouseLocation") or ""))
    return refs


def governed(clients: Clients, config: Config, names: Sequence[str]) -> None:
    """One Glue GetTable per table in the table bucket's catalog, which Lake Formation governs: DuckDB then
    reads through S3 Tables, which IAM alone governs, so without this anyone holding the readers' policy
    would read every table whether granted or not. A principal without the grant gets Lake Formation's
    AccessDeniedException here, as on Athena, before any data is read."""
    catalog = config.bucket_catalog_id(clients.account_id)
    for signal in names:
        clients.glue.get_table(CatalogId=catalog, DatabaseName=config.namespace, Name=signal)


def not_deployed(config: Config, signal: str) -> NotDeployed:
    return NotDeployed(
        f"error: env {config.env} is not deployed (no table {config.namespace}.{signal} in table bucket "
        f"{config.table_bucket_name}): run `doit deploy env={config.env}`"
    )


def credentials(clients: Clients) -> S3Credentials:
    """The credentials every other command uses (the env's profile or the default chain)."""
    from botocore.exceptions import NoCredentialsError

    creds = clients.session.get_credentials()
    if creds is None:
        raise NoCredentialsError()
    frozen = creds.get_frozen_credentials()
    if frozen.access_key is None or frozen.secret_key is None:  # a credential provider that gave no keys
        raise NoCredentialsError()
    endpoint = None if clients.config.is_local else clients.config.endpoint
    return S3Credentials(frozen.access_key, frozen.secret_key, frozen.token, clients.config.region, endpoint)


# -- the DuckDB set-up, as SQL (pure: unit-tested without AWS) ----------------------------------------


def extension_file(name: str) -> Path:
    """The `.duckdb_extension` file inside the pinned `duckdb-extension-NAME` package."""
    try:
        return duckdb_extensions.extension_path(name)
    except duckdb_extensions.ExtensionMissing as exc:
        raise UserError(f"error: {exc}") from None


literal = duckdb_extensions.literal
ident = duckdb_extensions.ident


def s3_secret_sql(creds: S3Credentials) -> str:
    """CREATE SECRET for httpfs: the session's key, secret, token and region, nothing from elsewhere."""
    parts = [
        "TYPE s3",
        f"KEY_ID {literal(creds.access_key)}",
        f"SECRET {literal(creds.secret_key)}",
        f"REGION {literal(creds.region)}",
    ]
    if creds.token:
        parts.append(f"SESSION_TOKEN {literal(creds.token)}")
    if creds.endpoint:
        url = urlparse(creds.endpoint)
        parts += [
            f"ENDPOINT {literal(url.netloc)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if url.scheme == 'https' else 'false'}",
        ]
    return f"CREATE OR REPLACE SECRET otlp2pipeline_s3 ({', '.join(parts)})"


def allowed_prefixes(tables: Sequence[TableRef]) -> list[str]:
    """What the connection may read: each table's warehouse (its metadata's folder when none is given)."""
    out: list[str] = []
    for t in tables:
        base = t.warehouse_location or t.metadata_location.rsplit("/metadata/", 1)[0]
        base = base.rstrip("/") + "/"
        forms = [base]
        if base.startswith("file://"):
            forms.append(urlparse(base).path)
        out += [f for f in forms if f not in out]
    return out


def setup_sql(tables: Sequence[TableRef], creds: S3Credentials | None) -> list[str]:
    """Every statement that prepares the connection, in order: extensions, secret, views, sandbox."""
    remote = any(not t.metadata_location.startswith("file://") for t in tables)
    names = LOCAL_EXTENSIONS + (S3_EXTENSIONS if remote else ())
    sql = [f"LOAD {literal(str(extension_file(n)))}" for n in names]
    if remote:
        if creds is None:
            raise ValueError("an s3:// warehouse needs credentials")
        sql.append(s3_secret_sql(creds))
    for t in tables:
        sql.append(
            f"CREATE VIEW {ident(t.signal)} AS SELECT * FROM iceberg_scan({literal(t.metadata_location)})"
        )
    sql += duckdb_trino.MACROS  # Trino's to_unixtime, from_unixtime, approx_percentile: Grafana's SQL runs
    prefixes = ", ".join(literal(p) for p in allowed_prefixes(tables))
    sql += [
        "SET TimeZone = 'UTC'",  # Iceberg `timestamp` is UTC: now(), current_date and casts agree with it
        f"SET allowed_directories = [{prefixes}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]
    return sql


# Never fetch or auto-load anything: extensions come only from the LOADs above.
CONNECT_CONFIG = duckdb_extensions.CONNECT_CONFIG


def connect(tables: Sequence[TableRef], creds: S3Credentials | None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table, sandboxed to the tables' warehouse."""
    import duckdb

    conn = duckdb.connect(":memory:", config=dict(CONNECT_CONFIG))
    failure = None
    try:
        for statement in setup_sql(tables, creds):
            conn.execute(statement)
    except duckdb.Error as exc:
        failure = first_line(exc)
    if failure is not None:  # raised outside the handler (see run())
        conn.close()
        raise StepFailed(f"error: DuckDB cannot open the env's tables: {failure}")
    return conn


def open_env(
    clients: Clients, config: Config, names: Sequence[str] | None = None, *, lake_formation: bool = False
) -> tuple[duckdb.DuckDBPyConnection, list[TableRef]]:
    """A DuckDB connection with a view per table. With `lake_formation`, Lake Formation is asked first
    (governed), as a user's query must be; status's own freshness read is the deployer's."""
    tables = locate(clients, config, names)
    if lake_formation:
        governed(clients, config, [t.signal for t in tables])
    remote = any(not t.metadata_location.startswith("file://") for t in tables)
    return connect(tables, credentials(clients) if remote else None), tables


# -- the read-only rule --------------------------------------------------------------------------------


def run(conn: duckdb.DuckDBPyConnection, stmt: Statement, limit: int) -> Result:
    """Execute the checked statement; fetch at most `limit` rows (0: all), and know whether more exist."""
    import duckdb

    failure = None
    try:
        cur = conn.execute(stmt.sql)
        rows = cur.fetchall() if limit == 0 else cur.fetchmany(limit + 1)
    except duckdb.Error as exc:
        failure = first_line(exc)
    if failure is not None:
        # Raised outside the handler: DuckDB's exception (and the frames holding the connection) must not
        # ride along as __context__ to the end of the process.
        raise QueryError(f"error: query failed: {failure}")
    desc = cur.description or []
    truncated = limit > 0 and len(rows) > limit
    return Result(
        columns=[d[0] for d in desc],
        types=[str(d[1]) for d in desc],
        rows=rows[:limit] if truncated else rows,
        truncated=truncated,
        limit=limit,
        explain=stmt.explain,
    )


# re-exported: the engines' shared types and the one read-only check (tasks/engines/readonly.py)
__all__ = ["QueryError", "Result", "Statement", "check", "check_sql", "check_tables", "first_line"]
