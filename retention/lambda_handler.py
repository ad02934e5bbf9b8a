"""The env's retention function: its daily schedule invokes it; it runs retention/run.py once.

The stack sets its environment: `RETENTION_ENV`, `RETENTION_TABLE_BUCKET_ARN`, `RETENTION_NAMESPACE` and
`RETENTION_WINDOWS` (`logs=30,traces=7`). The schedule's input carries `scheduled_time` (EventBridge
Scheduler's `<aws.scheduler.scheduled-time>`): the run's "now", so a late or repeated invocation drops
exactly the days its schedule meant. Without it (a manual invoke) the run uses the current time;
`{"dry_run": true}` reads and reports only.

A run that fails (a table it could not drop, its metrics not published) raises after logging every table,
so Lambda counts an error and the schedule's invocation fails; the run's own metric says so first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3

from retention.run import Report, Target, run
from retention.windows import parse_windows

ENV_VAR = "RETENTION_ENV"
BUCKET_VAR = "RETENTION_TABLE_BUCKET_ARN"
NAMESPACE_VAR = "RETENTION_NAMESPACE"
WINDOWS_VAR = "RETENTION_WINDOWS"

log = logging.getLogger("retention")
log.setLevel(logging.INFO)


class RetentionFailed(RuntimeError):
    """The run failed for some table (or could not publish its metrics): the log names each."""


def scheduled_time(event: Mapping[str, Any]) -> datetime:
    """The schedule's time (ISO 8601, `2026-11-10T00:15:00Z`), or now."""
    raw = event.get("scheduled_time") if isinstance(event, Mapping) else None
    if not raw:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)


def target_from_env(environ: Mapping[str, str], session: Any) -> Target:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or session.region_name
    s3tables = session.client("s3tables", region_name=region)
    return Target(
        env=environ[ENV_VAR],
        bucket_arn=environ[BUCKET_VAR],
        namespace=environ[NAMESPACE_VAR],
        session=session,
        region=region,
        s3tables_endpoint=str(s3tables.meta.endpoint_url),
        s3=session.client("s3", region_name=region),
        cloudwatch=session.client("cloudwatch", region_name=region),
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    target = target_from_env(os.environ, boto3.session.Session())
    windows = parse_windows(os.environ[WINDOWS_VAR])
    dry_run = bool(event.get("dry_run")) if isinstance(event, Mapping) else False
    report: Report = run(target, windows, scheduled_time(event), dry_run=dry_run, say=log.info)
    if report.failed:
        raise RetentionFailed(report.summary())
    return report.to_dict()
