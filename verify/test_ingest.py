"""An OpenTelemetry SDK batch sent now through the receiver (`doit ingest`) lands in the tables.

Runs only with `--ingest URL` (the receiver's endpoint; `--ingest-token TOKEN`, or the token of the receiver
`doit ingest` runs here) and needs the test extra (opentelemetry-sdk).
The batch carries a fresh run id as `service.instance.id`, so its rows are found among any others.
"""

from __future__ import annotations

import time
from typing import Any

from tasks.polling import backoff, poll_until
from tasks.records import RUN_ID_COLUMN, new_run_id
from verify.tables import static_table

SPANS = 3
LOGS = 2


def _rows(clients: Any, config: Any, account_id: str, signal: str, run_id: str) -> list[dict[str, Any]]:
    table = static_table(clients, config, account_id, signal)
    return list(table.scan(row_filter=f"{RUN_ID_COLUMN} = '{run_id}'").to_arrow().to_pylist())


def test_an_sdk_batch_through_the_receiver_lands(
    clients, config, account_id, ingest_endpoint, ingest_token, delivery_margin
):
    from opentelemetry._logs import LogRecord
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    run_id = new_run_id()
    resource = Resource.create({"service.name": "otlp2pipeline-verify", "service.instance.id": run_id})
    headers = {"Authorization": f"Bearer {ingest_token}"} if ingest_token else None
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{ingest_endpoint}/v1/traces", headers=headers))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{ingest_endpoint}/v1/logs", headers=headers))
    )
    tracer = tracer_provider.get_tracer("verify")
    for i in range(SPANS):
        tracer.start_span(f"verify-{i}").end()
    logger = logger_provider.get_logger("verify")
    for i in range(LOGS):
        logger.emit(LogRecord(body=f"verify log {i}"))
    tracer_provider.shutdown()
    logger_provider.shutdown()

    wanted = {s: n for s, n in (("traces", SPANS), ("logs", LOGS)) if s in config.signals}
    deadline = time.monotonic() + config.firehose.buffering_interval_seconds + delivery_margin
    found, _ = poll_until(
        lambda: {s: len(_rows(clients, config, account_id, s, run_id)) for s in wanted},
        lambda f: f == wanted,
        backoff(deadline, first=0.5, cap=10.0),
    )
    assert found == wanted, f"rows of run {run_id} found {found}, sent {wanted} through {ingest_endpoint}"


# -- the deployed receiver: the stack's Function URL (ingest.enabled) ---------------------------------


def test_one_request_per_signal_through_the_function_url_lands(
    clients, config, account_id, signal, ingest_connection, delivery_margin
):
    """A request of this signal, authenticated as `doit connect` says, is answered 200 (sent again on a
    retryable answer, as an exporter does) and its row lands."""
    from verify.otlp_post import PATHS, export, request

    run_id = new_run_id()
    conn = ingest_connection
    sign = (clients.session.get_credentials(), config.region) if conn.auth == "iam" else None
    answer = export(conn.endpoint, PATHS[signal], request(signal, run_id), token=conn.token, sign=sign)
    assert answer.status == 200, (
        f"POST {conn.endpoint}{PATHS[signal]} answered {answer.status}: {answer.body[:300]!r}"
    )
    deadline = time.monotonic() + config.firehose.buffering_interval_seconds + delivery_margin
    delay = 0.5
    while True:
        found = len(_rows(clients, config, account_id, signal, run_id))
        if found >= 1 or time.monotonic() > deadline:
            break
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
    assert found == 1, f"rows of run {run_id} in {signal}: {found}, sent 1 through {conn.endpoint}"
