"""`doit send env=ENV [signal=NAME] [count=N]`: test records to the env's streams; prints the run_id."""

from __future__ import annotations

from typing import Any

from tasks.cli import args
from tasks.config import Config
from tasks.errors import Unhealthy, cli_action, emit


@cli_action
def _send() -> None:
    from tasks.aws import Clients
    from tasks.send import send

    config = args.config()
    signals = args.signals(config)  # validated before any AWS call
    count = args.count()
    clients = Clients(config)
    run_id, results = send(clients, config, signals, count)
    emit(f"run_id={run_id}")
    lost = 0
    for res in results:
        extra = f", {res.resent} resent" if res.resent else ""
        codes = f" ({', '.join(f'{k}: {v}' for k, v in res.errors.items())})" if res.errors else ""
        emit(f"{res.stream}: sent {res.sent}, failed {res.failed} in {res.calls} call(s){extra}{codes}")
        lost += res.failed
    if config.is_local:
        _local_hint(clients, config, signals)
    emit(
        f'look: doit query env={config.env} sql="select count(*) from {signals[0]} '
        f"where service_instance_id like '{run_id}:%'\""
    )
    emit(clients.counter.summary())
    if lost:
        raise Unhealthy(f"error: {lost} record(s) could not be delivered to Firehose after retries")


def _local_hint(clients: Any, config: Config, signals: list[str]) -> None:
    """Where the local rows land: flush the emulator's buffers, then show each table's metadata."""
    import json

    from botocore.exceptions import ClientError

    from emulator.admin.client import AdminClient

    assert config.endpoint is not None
    try:
        emit(f"emulator flush: {json.dumps(AdminClient(config.endpoint).flush())}")
    except (OSError, ValueError) as exc:
        emit(f"emulator flush failed: {exc}")
    arn = config.table_bucket_arn(clients.account_id)
    for s in signals:
        try:
            loc = clients.s3tables.get_table_metadata_location(
                tableBucketARN=arn, namespace=config.namespace, name=s
            )["metadataLocation"]
        except ClientError as exc:
            loc = f"unavailable ({exc.response.get('Error', {}).get('Code')})"
        emit(f"  {s}: metadata {loc}")
    emit(
        '  read one: python -c "from pyiceberg.table import StaticTable; '
        "print(StaticTable.from_metadata('<metadata>').scan().to_arrow().num_rows)\""
    )


def task_send() -> dict[str, Any]:
    """Send test records: doit send env=ENV [signal=NAME] [count=N]."""
    return {
        "doc": "Send test records to the env's streams (signal=NAME count=N); prints run_id",
        "actions": [_send],
        "uptodate": [False],
        "verbosity": 2,
    }
