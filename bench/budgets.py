"""The call budgets: how many AWS calls deploy, plan and status may make, counted exactly, with the default
signals. The one place they are stated: bench/report.py's goals and the tests
(tests/cli/commands/test_deploy.py, tests/cli/steps/test_ingest_deploy.py, tests/cli/bench/) import them. A
step that adds a read adds it here, named.

A converged env costs 15 reads (a no-op deploy without ingest, the Firehose role policy's GetRolePolicy
included); what the design adds to it is named below, call by call.
"""

from __future__ import annotations

from lake.signals import DEFAULT_SIGNALS

BASE_READS = 15
TABLES = len(DEFAULT_SIGNALS)  # status reads each table's freshness
# Every stream's tags (firehose:ListTagsForDeliveryStream), so a changed tag (the env tag's rename
# included) is updated in place: one read per stream.
STREAM_TAG_READS = TABLES
# The readers step (tasks/steps/readers.py): the record of readers (one SSM parameter). Each reader's grants
# come from the Lake Formation listing the grants step reads, the kept tables from the tables step's
# ListTables: a converged env with readers costs this one read more, and so does one without.
READERS_READS = ("ssm:GetParameter of the record of readers",)
# The alarms step (tasks/steps/alarms.py) reads the env's alarms once the stack exists, so deploy repairs an
# alarm deleted or retargeted outside CloudFormation: one call for up to 100 alarms. Cold deploy reads it too,
# after the stack's create; status has always read it (their states).
ALARM_READS = ("cloudwatch:DescribeAlarms of the env's alarms",)
CONVERGED_READS = BASE_READS + STREAM_TAG_READS + len(READERS_READS) + len(ALARM_READS)
# The tables step (tasks/steps/tables.py, kept_tables.py) on a converged env: the table bucket's one
# ListTables, every namespace at once (kept tables, of this namespace and of one the env left; no more
# reads than a namespace-filtered one), the Iceberg REST endpoint's GetConfig (the warehouse's prefix, once
# a run), and per table one LoadTable (its exact schema) and one GetTableMaintenanceConfiguration.
TABLE_READS = 1 + 1 + 2 * TABLES
TABLE_FORMULA = (
    f"s3tables:ListTables + s3tables:GetConfig + {TABLES} tables x "
    "(s3tables:LoadTable + s3tables:GetTableMaintenanceConfiguration)"
)
# The ingest function (on by default): "a converged deploy makes one read [of the zip key] and no writes".
INGEST_DEPLOY_READS = ("s3:HeadObject of the zip's key",)
# Status also reads the function itself: its state and code (GetFunction has no URL) and its URL's AuthType.
INGEST_STATUS_READS = (*INGEST_DEPLOY_READS, "lambda:GetFunction", "lambda:GetFunctionUrlConfig")
# Status's checks without ingest, in-process (no freshness reads): one read more than a no-op deploy (the
# alarms' DescribeAlarms, once a check of status only, is now part of CONVERGED_READS).
STATUS_CHECK_READS = 1
# A cold deploy: per table the GetTableMaintenanceConfiguration that finds no table and its CreateTable,
# the table bucket's ListTables, and the stack step's GetTableBucket (a bucket a deleted stack kept is
# imported).
COLD_BASE = 60
COLD_TABLE_CALLS = 2 * TABLES + 2
# Retention (retention_days, docs/retention.md) adds to a converged env only when a table has a window (the
# bench env keeps every row, so the budgets below do not include these): deploy and plan read the retention
# zip's key and the retention function role's inline policy, and per table with a window its manifest list
# (what the next run drops: an S3 GetObject of the table's storage on AWS, a file on the local AWS, so the
# local AWS's counter does not see it); status reads the last run too. The retention schedule's GetSchedule
# (tasks/steps/retention_schedule.py) is read by deploy, plan and status alike, so deploy puts back a
# schedule disabled, deleted or retargeted outside CloudFormation (status did not read it before: doctor
# did). A converged deploy writes nothing.
# Each read is named "service:Operation ..." (tests/cli/commands/test_retention.py counts them by that name).
RETENTION_DEPLOY_READS = (
    "s3:HeadObject of the retention zip's key",
    "iam:GetRolePolicy of the retention role",
    "scheduler:GetSchedule of the retention schedule",
)
RETENTION_TABLE_READ = "1 per table with a window: its manifest list (s3:GetObject on AWS)"
RETENTION_STATUS_READS = (*RETENTION_DEPLOY_READS, "cloudwatch:GetMetricData of the last run")

# -- the budgets -----------------------------------------------------------------------------------------
# Without the ingest function (ingest.enabled=false: tests/cli/commands/test_deploy.py).
NOOP_NO_INGEST = CONVERGED_READS + TABLE_READS
PLAN_NO_INGEST = CONVERGED_READS + TABLE_READS
STATUS_NO_INGEST = CONVERGED_READS + STATUS_CHECK_READS + TABLE_READS
COLD_NO_INGEST = COLD_BASE + len(ALARM_READS)
# The defaults (ingest on): bench/run.py's goals and tests/cli/steps/test_ingest_deploy.py.
NOOP_LIMIT = NOOP_NO_INGEST + len(INGEST_DEPLOY_READS)
PLAN_LIMIT = PLAN_NO_INGEST + len(INGEST_DEPLOY_READS)
STATUS_LIMIT = CONVERGED_READS + TABLE_READS + TABLES + len(INGEST_STATUS_READS)
# the readers' record and the alarms are read cold too
COLD_LIMIT = COLD_BASE + COLD_TABLE_CALLS + len(READERS_READS) + len(ALARM_READS)
