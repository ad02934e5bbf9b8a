"""Fixtures of the Firehose tests: `env`, a role, tables and grants ready for a stream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator import helpers as eh
from tests.emulator.firehose.streams_setup import (
    ERROR_BUCKET,
    create_table,
    grant,
)


@pytest.fixture
def env(emulator: Any) -> dict[str, Any]:
    """A role Firehose can assume with the guide's grants, a table, an error bucket, a log stream."""
    iam = emulator.client("iam")
    role_arn = eh.create_firehose_role(iam, "fh-role")
    emulator.client("s3").create_bucket(Bucket=ERROR_BUCKET)
    logs = emulator.client("logs")
    logs.create_log_group(logGroupName="/aws/kinesisfirehose/fh")
    logs.create_log_stream(logGroupName="/aws/kinesisfirehose/fh", logStreamName="logs")
    eh.create_s3tables_catalog(
        emulator.client("glue"), CreateDatabaseDefaultPermissions=[], CreateTableDefaultPermissions=[]
    )
    create_table(emulator, "logs")
    grant(emulator, role_arn, "logs")
    return {"emu": emulator, "role": role_arn, "fh": emulator.client("firehose", retries={"max_attempts": 1})}
