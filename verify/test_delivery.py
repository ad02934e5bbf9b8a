"""Records sent now land: through the same sender as `doit send`, watched via CloudWatch and the error bucket.

On local the emulator's Iceberg tables are also read back, and every record of the run is found with the
exact values sent.
"""

from __future__ import annotations

from typing import Any

from tasks import send as sender
from tasks.records import RUN_ID_COLUMN, make_records, new_run_id
from verify.delivery import check_delivery
from verify.tables import static_table

RECORDS_PER_SIGNAL = 5


def test_records_sent_now_are_delivered_without_errors(
    clients, config, account_id, stack_outputs, delivery_margin, signal
):
    run_id = new_run_id()
    records = make_records(signal, run_id, RECORDS_PER_SIGNAL)

    def send(recs: list[dict[str, Any]]) -> int:
        _, results = sender.send(clients, config, [signal], len(recs), run_id)
        return results[0].sent

    def read_rows() -> list[dict[str, Any]]:
        table = static_table(clients, config, account_id, signal)
        return list(table.scan(row_filter=f"{RUN_ID_COLUMN} LIKE '{run_id}:%'").to_arrow().to_pylist())

    result = check_delivery(
        clients,
        config,
        signal,
        run_id,
        records,
        send,
        stack_outputs["ErrorBucketName"],
        delivery_margin,
        read_rows if config.is_local else None,
    )
    print(result.message)
    assert result.ok, result.message
