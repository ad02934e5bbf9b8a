"""What the table tests of tests/cli/steps/ share: a table of env local's bucket read straight from its
Iceberg metadata (no tool code in between), and rows sent through `doit send`'s code path."""

from __future__ import annotations

from typing import Any

from pyiceberg.table import StaticTable

from tasks import send as sender
from tasks.aws import Clients
from tests.deploy_helpers import config

BUCKET = "arn:aws:s3tables:us-east-1:123456789012:bucket/otlp2pipeline-local"


def static_table(emu: Any, name: str, namespace: str = "default") -> Any:
    """The table `namespace.name` of env local's bucket, as its current metadata file describes it."""
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=BUCKET, namespace=namespace, name=name
    )
    return StaticTable.from_metadata(loc["metadataLocation"])


def send_rows(emu: Any, overrides: dict[str, str], signal: str, count: int) -> str:
    """`count` records of `signal` into the env's stream, delivered; the run id they carry."""
    cfg = config(emu, overrides)
    run_id, results = sender.send(Clients(cfg), cfg, [signal], count)
    assert results[0].failed == 0
    emu.flush()
    return run_id
