"""The tool's side of retention: the env's windows, a run with the caller's credentials, and the preview.

The run itself is retention/run.py, the same code the env's retention function runs; here it gets the
command's Clients (the env's session and region, so `doit retention` counts and retries like every other
call) and prints through `emit`. The preview (`plan`, `status`) is retention/preview.py on the LoadTable
the tables step already made (tasks/steps/tables.py shares it): one more read per table, its manifest
list, and only when the table has a window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tasks.errors import UserError, emit

if TYPE_CHECKING:
    from retention.preview import Preview
    from retention.run import Report, Target
    from tasks.aws import Clients
    from tasks.config import Config
    from tasks.step import Context

# The function's schedule: daily at a quarter past midnight UTC, just after a day ended (retention.yaml.j2).
SCHEDULE = "cron(15 0 * * ? *)"
SCHEDULE_TEXT = "daily at 00:15 UTC"
# The table bucket's unreferenced-file removal (the stack enables it with S3 Tables' defaults, S3 User Guide
# "Maintenance for table buckets"): a file no snapshot references is noncurrent after 3 days, deleted 10
# days later.
UNREFERENCED_DAYS = 3
NONCURRENT_DAYS = 10


def reclaim_days(config: Config) -> int:
    """Days from a run's drop until S3 Tables deleted the dropped files: the snapshots that still reference
    them expire (tables.snapshot_max_age_hours, rounded up to days), then unreferenced-file removal."""
    expiry = -(-config.tables.snapshot_max_age_hours // 24)
    return expiry + UNREFERENCED_DAYS + NONCURRENT_DAYS


def reclaim_note(config: Config) -> str:
    hours = config.tables.snapshot_max_age_hours
    return (
        f"a dropped day's files are deleted about {reclaim_days(config)} days after its run (billed until "
        f"then): the snapshots before the drop expire after tables.snapshot_max_age_hours ({hours} h), then "
        f"S3 Tables' unreferenced-file removal marks the files noncurrent after {UNREFERENCED_DAYS} days and "
        f"deletes them {NONCURRENT_DAYS} days later (docs/retention.md)"
    )


def windows(config: Config) -> dict[str, int]:
    """signal -> days kept, for the env's tables that have a window; refuses an env without any."""
    found = config.retention_windows
    if not found:
        raise UserError(
            f"error: env {config.env} keeps every row: retention_days and retention.SIGNAL are null for its "
            f"tables ({', '.join(config.signals)}); set retention_days (e.g. retention_days=30) for a window"
        )
    return found


def target(clients: Clients) -> Target:
    from retention.run import Target

    config = clients.config
    return Target(
        env=config.env,
        bucket_arn=config.table_bucket_arn(clients.account_id),
        namespace=config.namespace,
        session=clients.session,
        region=config.region,
        s3tables_endpoint=str(clients.s3tables.meta.endpoint_url),
        s3=clients.client("s3"),
        cloudwatch=clients.client("cloudwatch"),
    )


def run(
    clients: Clients,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    say: Callable[[str], None] = emit,
) -> Report:
    """One run over the env's tables with the caller's credentials (`doit retention`, deploy)."""
    from retention import run as retention_run

    return retention_run.run(
        target(clients), windows(clients.config), now or datetime.now(UTC), dry_run=dry_run, say=say
    )


def preview(ctx: Context, signal: str, loaded: dict[str, Any] | None, now: datetime) -> Preview | None:
    """What the next run drops from the signal's table (None: no window, or no table yet)."""
    from retention.drop import Planner, parse
    from retention.fileio import TableFiles
    from retention.preview import preview as make
    from retention.windows import cutoff_day

    days = ctx.config.retention.window(signal)
    if days is None or loaded is None:
        return None
    planner = Planner(TableFiles(ctx.clients.client("s3")))
    return make(parse(loaded), planner, cutoff_day(now, days))
