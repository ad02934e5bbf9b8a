"""A deployed lake with known rows, readable by both query engines: the shared set-up of the engine,
dialect, Athena and Grafana tests.

Rows go in through Firehose PutRecordBatch (as `doit send` and the receiver deliver them), each with a chosen
`timestamp` near now, so "the last hour" and "today" questions find them. The caller (the local AWS's
default user) gets what a reader needs in Lake Formation (DESCRIBE on the namespace, SELECT on its tables):
Athena reads under those grants; a data lake admin gets no SELECT by being one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tasks.records import encode, epoch_micros, make_records
from tests.deploy_helpers import config, deploy

SIGNALS = "logs,traces,sum,gauge,histogram"
CALLER = "arn:aws:iam::123456789012:user/moto"


def put(emu: Any, signal: str, run_id: str, stamps: list[dt.datetime], **values: object) -> None:
    """One record per timestamp, delivered and committed before returning."""
    records = make_records(signal, run_id, len(stamps))
    for rec, t in zip(records, stamps, strict=True):
        rec.update(values, timestamp=epoch_micros(t))
    fh = emu.client("firehose")
    for i in range(0, len(records), 500):
        resp = fh.put_record_batch(
            DeliveryStreamName=f"otlp2pipeline-local-{signal}",
            Records=[{"Data": encode(r)} for r in records[i : i + 500]],
        )
        assert resp["FailedPutCount"] == 0
    emu.flush()


def grant_reader(emu: Any, principal: str = CALLER, namespace: str = "default") -> None:
    """What a reader needs in the table bucket's catalog: DESCRIBE on the namespace, SELECT on its tables."""
    lf = emu.client("lakeformation")
    catalog = "123456789012:s3tablescatalog/otlp2pipeline-local"
    who = {"DataLakePrincipalIdentifier": principal}
    lf.grant_permissions(
        Principal=who,
        Permissions=["DESCRIBE"],
        Resource={"Database": {"CatalogId": catalog, "Name": namespace}},
    )
    tables = {"Table": {"CatalogId": catalog, "DatabaseName": namespace, "TableWildcard": {}}}
    lf.grant_permissions(Principal=who, Permissions=["SELECT", "DESCRIBE"], Resource=tables)


def write_rows(emu: Any, now: dt.datetime) -> None:
    """Logs (errors of two services, a body with a quote and a newline, yesterday's), spans (served, failed
    and internal), and a series of each metric table, in the hour before `now`."""
    minutes = [now - dt.timedelta(minutes=m) for m in (2, 3, 7, 20, 45)]
    errors = {"severity_number": 17, "severity_text": "ERROR", "service_name": "api"}
    put(emu, "logs", "run-errors", minutes[:3], **errors)
    fatal = {"severity_number": 21, "severity_text": "FATAL", "service_name": "db"}
    put(emu, "logs", "run-fatal", minutes[3:], **fatal)
    put(emu, "logs", "run-quote", [minutes[0]], body='say "hi"\nthen, bye', service_name="api")
    put(emu, "logs", "run-old", [now - dt.timedelta(days=1, hours=2)] * 3, service_name="api")
    spans = [now + dt.timedelta(minutes=10 - m) for m in range(6)]  # still today when the query runs
    put(emu, "traces", "run-ok", spans[:4], span_kind=2, status_code=1, duration=120, service_name="api")
    put(emu, "traces", "run-err", spans[4:], span_kind=2, status_code=2, duration=900, service_name="db")
    put(emu, "traces", "run-inner", spans[:2], span_kind=1, status_code=0, duration=5, service_name="api")
    put(emu, "sum", "run-sum", minutes, value=41.5, metric_name="requests.total")
    put(emu, "gauge", "run-gauge", minutes, metric_name="otlp2pipeline.test")
    put(emu, "histogram", "run-hist", minutes, metric_name="latency")


def lake(emu: Any, overrides: dict[str, str] | None = None, *, rows: bool = True) -> Any:
    """Deploy env local with SIGNALS, write the known rows (around now), grant the caller; its Config."""
    settings = {"signals": SIGNALS, **(overrides or {})}
    deploy(emu, settings)
    if rows:
        write_rows(emu, dt.datetime.now(dt.UTC).replace(microsecond=0))
    grant_reader(emu)
    return config(emu, settings)
