"""What a deployed env must look like, derived from the config and the AWS facts (aws-facts.md).

verify/ reads AWS directly and compares with these; it does not reuse the deploy code it checks, except
for names (tasks.config) and the documents the template renders (tasks.template.lf_role_documents).
"""

from __future__ import annotations

from tasks.config import CATALOG_NAME, Config

LF_ROLE_NAME = "S3TablesRoleForLakeFormation"
LF_SERVICE = "lakeformation.amazonaws.com"
STS_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext")
# aws-facts.md, step 1: ListTableBuckets plus the table-bucket data actions.
S3TABLES_ACTIONS = (
    "s3tables:ListTableBuckets",
    "s3tables:CreateTableBucket",
    "s3tables:GetTableBucket",
    "s3tables:DeleteTableBucket",
    "s3tables:CreateNamespace",
    "s3tables:GetNamespace",
    "s3tables:ListNamespaces",
    "s3tables:DeleteNamespace",
    "s3tables:CreateTable",
    "s3tables:GetTable",
    "s3tables:ListTables",
    "s3tables:DeleteTable",
    "s3tables:RenameTable",
    "s3tables:GetTableMetadataLocation",
    "s3tables:UpdateTableMetadataLocation",
    "s3tables:GetTableData",
    "s3tables:PutTableData",
)


def lf_resource_arn(config: Config, account_id: str) -> str:
    return config.table_buckets_arn(account_id)


def lf_role_arn(config: Config, account_id: str) -> str:
    return config.role_arn(account_id, LF_ROLE_NAME)


def table_bucket_arn(config: Config, account_id: str) -> str:
    return config.table_bucket_arn(account_id)


def bucket_catalog_id(config: Config, account_id: str) -> str:
    """The Glue/Lake Formation catalog id of the table bucket's child catalog."""
    return f"{account_id}:{CATALOG_NAME}/{config.table_bucket_name}"


def catalog_arn(config: Config, account_id: str) -> str:
    return config.bucket_catalog_arn(account_id)


def expected_stack_outputs(config: Config) -> tuple[str, ...]:
    """Output keys the stack must have: the template's, per env (its signals)."""
    from tasks.template import output_keys

    return tuple(output_keys(config))


# The alarms' metrics as the Amazon Data Firehose and AWS Lambda developer guides list them (docs/alarms.md),
# written down here again, not read from tasks/alarms.py: cause -> (namespace, metric, dimension, statistic).
STREAM_ALARMS = {
    "delivery-failing": ("AWS/Firehose", "DeliveryToIceberg.Success", "DeliveryStreamName", "Sum"),
    "records-to-error-bucket": (
        "AWS/Firehose",
        "DeliveryToIceberg.FailedRowCount",
        "DeliveryStreamName",
        "Sum",
    ),
    "data-stale": ("AWS/Firehose", "DeliveryToIceberg.DataFreshness", "DeliveryStreamName", "Maximum"),
}
FUNCTION_ALARMS = {
    "errors": ("AWS/Lambda", "Errors", "FunctionName", "Sum"),
    "throttled": ("AWS/Lambda", "Throttles", "FunctionName", "Sum"),
    "near-timeout": ("AWS/Lambda", "Duration", "FunctionName", "Maximum"),
}
# The retention runs' own metric (docs/retention.md): every run publishes RunFailed, dimension Env.
RETENTION_ALARMS = {
    "failed": ("otlp2pipeline/Retention", "RunFailed", "Env", "Minimum"),
    "missing": ("otlp2pipeline/Retention", "RunFailed", "Env", "Minimum"),
}
# A daily run that did not happen is exactly missing data: that alarm treats it as breaching.
BREACHING_WHEN_MISSING = ("missing",)
RETENTION_SCHEDULE = "cron(15 0 * * ? *)"
RETENTION_HANDLER = "retention.lambda_handler.handler"


def treat_missing_data(config: Config, name: str) -> str:
    """The alarm's TreatMissingData: notBreaching, but for a retention run that is due every day."""
    missing = {config.alarm_name("retention", cause) for cause in BREACHING_WHEN_MISSING}
    return "breaching" if name in missing else "notBreaching"


def expected_alarms(config: Config) -> dict[str, tuple[str, str, dict[str, str], str]]:
    """Alarm name -> (namespace, metric, dimensions, statistic) for every alarm the env must have."""
    out = {}
    for signal in config.signals:
        for cause, (ns, metric, dim, stat) in STREAM_ALARMS.items():
            out[config.alarm_name(signal, cause)] = (ns, metric, {dim: config.stream_name(signal)}, stat)
    if config.ingest.function.enabled:
        for cause, (ns, metric, dim, stat) in FUNCTION_ALARMS.items():
            out[config.alarm_name("ingest", cause)] = (ns, metric, {dim: config.ingest_function_name}, stat)
    if config.retention_windows:
        for cause, (ns, metric, dim, stat) in RETENTION_ALARMS.items():
            out[config.alarm_name("retention", cause)] = (ns, metric, {dim: config.env}, stat)
    return out
