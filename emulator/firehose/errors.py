"""The error codes a failed Firehose delivery writes: ``errorCode`` of each error-bucket record and of each
CloudWatch Logs event. AWS publishes no complete list (see the README's Firehose section); these follow the
codes AWS's Iceberg destination documents and reports.

They are not API errors: those are exceptions.py's, answered to the caller of an operation.
"""

from __future__ import annotations

# A record the table cannot take: to the error bucket at once (records.py).
ERR_BAD_JSON = "Iceberg.InvalidRecordFormat"
ERR_MISSING_COLUMN = "Iceberg.MissingColumnWithinRecord"
ERR_TYPE = "Iceberg.DataTypeMismatch"
# A timestamp column given anything but integer epoch microseconds (Firehose's Iceberg docs: "For Timestamp
# data types, you must always send in microseconds"); ISO-8601 only with the lenient_timestamps option.
ERR_TIMESTAMP = "Iceberg.InvalidTimestamp"
# A record with a top-level key that is not a column of the table: refused unless schema evolution is on
# (third-party reports: terraform-provider-aws#47726; AWS's guide only says names "should match"). The code
# name is the local AWS's own.
ERR_UNKNOWN_COLUMN = "Iceberg.UnknownColumnWithinRecord"

# The destination itself fails: retried for RetryOptions.DurationInSeconds (access.py, delivery.py).
ERR_ROLE = "Iceberg.RoleAssumptionFailed"
ERR_LF = "Iceberg.InsufficientLakeFormationPermissions"
ERR_NO_TABLE = "Iceberg.NoSuchTable"
ERR_CATALOG = "Iceberg.InvalidCatalogARN"
ERR_NO_CATALOG = "Iceberg.CatalogNotFound"
ERR_COMMIT = "Iceberg.CommitFailed"

# A call of the delivery the role's IAM policies do not allow, by the called service (needs.py).
ERR_GLUE = "Glue.AccessDenied"
ERR_ACCESS = "Iceberg.AccessDenied"
ERR_S3 = "S3.AccessDenied"
ERR_LOGS = "CloudWatchLogs.AccessDenied"
