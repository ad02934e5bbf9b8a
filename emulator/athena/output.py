"""Where a query's results go, and reading them back: ``<OutputLocation>/<QueryExecutionId>.csv`` and its
``.csv.metadata`` in the local S3 (moto's backend, in-process), encrypted as the result configuration says.

The output bucket must exist when the query starts (``InvalidRequestException`` "Unable to verify/create
output bucket BUCKET"); a write that fails later fails the query. The caller's IAM permission to write
there is not evaluated (the local AWS evaluates no caller's IAM policies, see docs/local-aws.md).
``GetQueryResults`` reads the files back, so deleting them (or a lifecycle rule expiring them) loses the
results, as on AWS.
"""

from __future__ import annotations

from typing import Any

from emulator.athena import results
from emulator.athena.exceptions import InvalidRequestException


class WriteFailed(Exception):
    """The result files could not be written (the bucket went away, or belongs to another owner)."""


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def result_uri(output_location: str, execution_id: str) -> str:
    return f"{output_location.rstrip('/')}/{execution_id}.csv"


def _backend(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def _bucket(account_id: str, region: str, name: str) -> Any | None:
    return _backend(account_id, region).buckets.get(name)


def check_bucket(account_id: str, region: str, output_location: str) -> None:
    bucket = split(output_location)[0]
    if _bucket(account_id, region, bucket) is None:
        raise InvalidRequestException(f"Unable to verify/create output bucket {bucket}")


def write(
    account_id: str,
    region: str,
    result_configuration: dict[str, Any],
    header: list[str] | None,
    rows: list[list[str | None]],
    columns: list[dict[str, Any]],
) -> None:
    """The CSV and its metadata, with the configuration's encryption; WriteFailed when S3 refuses."""
    uri = str(result_configuration["OutputLocation"])
    bucket, key = split(uri)
    owner = result_configuration.get("ExpectedBucketOwner")
    if _bucket(account_id, region, bucket) is None:
        raise WriteFailed(f"Amazon S3: the output bucket {bucket} does not exist")
    if owner and owner != account_id:
        raise WriteFailed(f"Amazon S3: Access Denied writing s3://{bucket}/{key}")
    encryption = result_configuration.get("EncryptionConfiguration") or {}
    option = encryption.get("EncryptionOption")
    kwargs: dict[str, Any] = {}
    if option == "SSE_S3":
        kwargs["encryption"] = "AES256"
    elif option in ("SSE_KMS", "CSE_KMS"):
        kwargs["encryption"] = "aws:kms"
        if encryption.get("KmsKey"):
            kwargs["kms_key_id"] = encryption["KmsKey"]
    backend = _backend(account_id, region)
    backend.put_object(bucket, key, results.csv_bytes(header, rows), **kwargs)
    backend.put_object(bucket, f"{key}.metadata", results.metadata_bytes(columns), **kwargs)


def read(account_id: str, region: str, uri: str) -> tuple[list[dict[str, Any]], list[list[str | None]]]:
    """(ColumnInfo, rows) as written; InvalidRequestException when the files are gone."""
    bucket, key = split(uri)
    backend = _backend(account_id, region)
    try:
        data = backend.get_object(bucket, key)
        meta = backend.get_object(bucket, f"{key}.metadata")
    except Exception:
        data = meta = None
    if data is None or meta is None:
        raise InvalidRequestException(
            f"Unable to read the query results at {uri}: the result files are gone from Amazon S3"
        )
    return results.parse_metadata(meta.value), results.parse_csv(data.value)
