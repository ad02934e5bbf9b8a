"""`doit query`'s engines against pyiceberg: count(*) and a one-hour range over N log rows in the local lake,
and the README's ready-made questions on both engines with the bytes Athena scans for each.

Starts an in-process emulator (free port, throw-away data dir), deploys env `local` with `logs`, `traces` and
`gauge`, writes N log rows (and a tenth as many spans and gauge points) spread evenly over D days straight
into the emulator's Iceberg store (one commit, so one data file, per day: the layout Firehose's daily
partitions give), grants the caller SELECT in Lake Formation (as a reader is granted), then times, R times
each (median):

- DuckDB through tasks/query.py (the views `doit query` makes): `count(*)` and a one-hour `timestamp` range;
- Athena's local path (`doit query engine=athena`, tasks/engines/athena.py: StartQueryExecution, the poll,
  GetQueryResults against the local AWS's Athena), the same two queries, with the bytes each scanned and
  what Athena would bill for them;
- pyiceberg: `StaticTable.from_metadata(...).scan().to_arrow()` for the count, and the same scan with the
  hour as `row_filter` for the range;
- then each ready-made question (tasks/engines/sql.py) once on each engine, at one instant (the clock's
  readings in it as literals): seconds, and Athena's bytes scanned and cost.

    .venv/bin/python bench/query.py [--rows 1000000] [--days 10] [--repeat 5] [--out bench/results.json]

Prints the figures and the ratios (pyiceberg or Athena seconds / DuckDB seconds); the engines must agree on
the counts and on every question's answer. Nothing is asserted about speed. The local Athena's seconds are
DuckDB's plus the HTTP round trips and the CSV result in S3; a real Athena's are not measured here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

from bench.results import merge_into  # noqa: E402

# The first day's midnight: the last day is today, so the questions about the last hour and today find rows.
TODAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
METRIC = "otlp2pipeline.test"  # the metric the ready-made question reads
SIGNALS = ("logs", "traces", "gauge")  # the tables the ready-made questions read


def day_table(schema: Any, start: dt.datetime, day: int, rows: int) -> Any:
    """`rows` log rows evenly over one day, every required column filled (vectorised: no Python loop)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seq = pa.array(range(rows), pa.int64())
    base = int((start + dt.timedelta(days=day)).timestamp()) * 1_000_000
    step = 86_400_000_000 // rows
    stamps = pc.add(pc.multiply(seq, step), base).cast(pa.timestamp("us"))
    text = pc.cast(seq, pa.large_string())
    arrays = []
    for f in schema:
        if f.name == "timestamp":
            arrays.append(stamps)
        elif f.name == "service_instance_id":
            arrays.append(
                pc.binary_join_element_wise(
                    pa.scalar(f"bench-{day}", pa.large_string()), text, pa.scalar(":", pa.large_string())
                )
            )
        elif f.name == "metric_name":
            arrays.append(pa.repeat(pa.scalar(METRIC, f.type), rows))
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            arrays.append(pa.repeat(pa.scalar(f"{f.name}-value", f.type), rows))
        elif pa.types.is_integer(f.type):
            arrays.append(pc.cast(pc.bit_wise_and(seq, 1023), f.type))
        elif pa.types.is_floating(f.type):
            arrays.append(pc.cast(seq, f.type))
        elif pa.types.is_boolean(f.type):
            arrays.append(pc.equal(pc.bit_wise_and(seq, 1), 0))
        else:
            arrays.append(pa.nulls(rows, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds of `repeat` runs, and the count the runs agreed on."""
    seconds, counts = [], set()
    for _ in range(repeat):
        t0 = time.perf_counter()
        counts.add(fn())
        seconds.append(time.perf_counter() - t0)
    if len(counts) != 1:
        raise AssertionError(f"runs disagree: {counts}")
    return statistics.median(seconds), counts.pop()


def grant_caller(cfg: Any) -> None:
    """DESCRIBE on the namespace and SELECT on its tables for the caller: what Athena reads under."""
    from tasks.aws import Clients

    clients = Clients(cfg)
    who = {"DataLakePrincipalIdentifier": clients.sts.get_caller_identity()["Arn"]}
    catalog = f"{clients.account_id}:s3tablescatalog/{cfg.table_bucket_name}"
    lf = clients.lakeformation
    lf.grant_permissions(
        Principal=who,
        Permissions=["DESCRIBE"],
        Resource={"Database": {"CatalogId": catalog, "Name": cfg.namespace}},
    )
    tables = {"Table": {"CatalogId": catalog, "DatabaseName": cfg.namespace, "TableWildcard": {}}}
    lf.grant_permissions(Principal=who, Permissions=["SELECT", "DESCRIBE"], Resource=tables)


def at_instant(sql: str, now: dt.datetime) -> str:
    """The question asked at one instant: the clock's readings as literals, so both engines, run seconds
    apart, answer the same (the rows are dense: "the last hour" moves over some in a second)."""
    text = sql.replace("current_timestamp", f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'")
    return text.replace("current_date", f"DATE '{now:%Y-%m-%d}'")


def questions(duck: Any, athena: Any) -> list[dict[str, Any]]:
    """Each ready-made question once per engine: the same answer, the seconds, Athena's scan and cost."""
    from tasks.engines.sql import QUESTIONS

    now = dt.datetime.now(dt.UTC)
    out = []
    for q in QUESTIONS:
        answers, seconds = [], []
        for engine in (duck, athena):
            t0 = time.perf_counter()
            res = engine.run(engine.check(at_instant(q.sql, now)), 0)
            seconds.append(time.perf_counter() - t0)
            answers.append(res)
        d, a = answers
        if [tuple(map(str, r)) for r in d.rows] != [tuple(map(str, r)) for r in a.rows]:
            raise AssertionError(f"engines disagree on {q.title!r}: {d.rows[:3]} / {a.rows[:3]}")
        assert a.scan is not None
        out.append(
            {
                "question": q.title,
                "rows": len(d.rows),
                "duckdb_seconds": round(seconds[0], 4),
                "athena_seconds": round(seconds[1], 4),
                "athena_scanned_bytes": a.scan.scanned_bytes,
                "athena_billed_bytes": a.scan.billed_bytes,
                "athena_cost_usd": round(a.scan.cost_usd, 9),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results.json", help="figures go under its 'query' key"
    )
    args = ap.parse_args(argv)

    from pyiceberg.table import StaticTable

    from emulator.app import EmulatorServer
    from emulator.core.state import ACCOUNT_ID
    from emulator.iceberg.store import get_store
    from lake.athena_cost import PRICE_PER_TB, SOURCE
    from tasks import engines
    from tasks.aws import Clients
    from tasks.config import load
    from tasks.query import open_env
    from tasks.runner import Run

    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        server = EmulatorServer(port=0, data_dir=Path(tmp) / "data").start()
        try:
            cfg = load("local", {"endpoint": server.endpoint, "signals": ",".join(SIGNALS)})
            with contextlib.redirect_stdout(io.StringIO()):  # the deploy's progress lines
                Run(cfg).deploy_sequential()
            store = get_store()
            bucket = cfg.table_bucket_arn(ACCOUNT_ID)
            start = TODAY - dt.timedelta(days=args.days - 1)
            t0 = time.perf_counter()
            for signal in SIGNALS:
                total = args.rows if signal == "logs" else args.rows // 10
                schema = store.schema(bucket, cfg.namespace, signal).as_arrow()
                per_day = total // args.days
                for day in range(args.days):
                    rows = per_day + (total - per_day * args.days if day == args.days - 1 else 0)
                    store.append(bucket, cfg.namespace, signal, day_table(schema, start, day, rows))
            load_seconds = time.perf_counter() - t0
            grant_caller(cfg)

            t0 = time.perf_counter()
            conn, refs = open_env(Clients(cfg), cfg)
            open_seconds = time.perf_counter() - t0
            location = next(r.metadata_location for r in refs if r.signal == "logs")
            lo = start + dt.timedelta(days=args.days // 2, hours=12)
            hi = lo + dt.timedelta(hours=1)
            where = f"timestamp >= '{lo:%Y-%m-%d %H:%M:%S}' and timestamp < '{hi:%Y-%m-%d %H:%M:%S}'"

            def duck(sql: str) -> Callable[[], int]:
                def run() -> int:
                    row = conn.execute(sql).fetchone()
                    assert row is not None
                    return int(row[0])

                return run

            def ice_count() -> int:
                return int(StaticTable.from_metadata(location).scan().to_arrow().num_rows)

            def ice_range() -> int:
                flt = f"timestamp >= '{lo:%Y-%m-%dT%H:%M:%S}' and timestamp < '{hi:%Y-%m-%dT%H:%M:%S}'"
                return int(StaticTable.from_metadata(location).scan(row_filter=flt).to_arrow().num_rows)

            athena = engines.create("athena", cfg)
            athena.open(Clients(cfg))
            athena_where = (
                f"\"timestamp\" >= TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' "
                f"and \"timestamp\" < TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}'"
            )

            scans: list[Any] = []  # each Athena run's scan, the last one reported

            def on_athena(sql: str) -> Callable[[], int]:
                def run() -> int:
                    res = athena.run(athena.check(sql), 0)
                    scans.append(res.scan)
                    return int(res.rows[0][0])

                return run

            figures: dict[str, Any] = {}
            for name, fn in (
                ("duckdb_count", duck("select count(*) from logs")),
                ("duckdb_range", duck(f"select count(*) from logs where {where}")),
                ("athena_count", on_athena("select count(*) from logs")),
                ("athena_range", on_athena(f"select count(*) from logs where {athena_where}")),
                ("pyiceberg_count", ice_count),
                ("pyiceberg_range", ice_range),
            ):
                seconds, count = timed(fn, args.repeat)
                figures[name] = {"seconds": round(seconds, 4), "rows": count}
                if name.startswith("athena"):
                    scan = scans[-1]
                    figures[name] |= {
                        "scanned_bytes": scan.scanned_bytes,
                        "cost_usd": round(scan.cost_usd, 9),
                    }
            with engines.create("duckdb", cfg) as duck_engine:
                duck_engine.open(Clients(cfg))
                asked = questions(duck_engine, athena)
            athena.close()
            conn.close()
        finally:
            server.stop()

    for kind in ("count", "range"):
        if len({figures[f"{e}_{kind}"]["rows"] for e in ("duckdb", "athena", "pyiceberg")}) != 1:
            raise AssertionError(f"engines disagree on {kind}: {figures}")
    result = {
        "rows": args.rows,
        "days": args.days,
        "repeat": args.repeat,
        "load_seconds": round(load_seconds, 2),
        "duckdb_open_seconds": round(open_seconds, 3),
        **figures,
        "count_ratio_pyiceberg_over_duckdb": round(
            figures["pyiceberg_count"]["seconds"] / figures["duckdb_count"]["seconds"], 1
        ),
        "range_ratio_pyiceberg_over_duckdb": round(
            figures["pyiceberg_range"]["seconds"] / figures["duckdb_range"]["seconds"], 1
        ),
        "count_ratio_athena_local_over_duckdb": round(
            figures["athena_count"]["seconds"] / figures["duckdb_count"]["seconds"], 1
        ),
        "range_ratio_athena_local_over_duckdb": round(
            figures["athena_range"]["seconds"] / figures["duckdb_range"]["seconds"], 1
        ),
        "questions": asked,
        "athena_price": {"usd_per_tb": PRICE_PER_TB, "source": SOURCE},
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"{args.rows} log rows over {args.days} days ({args.days} data files); median of {args.repeat}")
    print(f"  duckdb open (GetTableMetadataLocation + LOADs + views): {open_seconds:.3f}s")
    for kind, label in (("count", "count(*)"), ("range", "one-hour range")):
        d, p, a = (figures[f"{e}_{kind}"] for e in ("duckdb", "pyiceberg", "athena"))
        print(
            f"  {label:15} duckdb {d['seconds']:.4f}s  pyiceberg {p['seconds']:.4f}s "
            f"({result[f'{kind}_ratio_pyiceberg_over_duckdb']}x)  local athena {a['seconds']:.4f}s "
            f"({result[f'{kind}_ratio_athena_local_over_duckdb']}x, scanned {a['scanned_bytes']} bytes, "
            f"${a['cost_usd']:.6f})  ({d['rows']} rows)"
        )
    print(
        f"  the ready-made questions (Athena at ${PRICE_PER_TB:.2f} per TB, {SOURCE}; 10 MB minimum a query):"
    )
    for q in asked:
        print(
            f"    {q['question']}: {q['rows']} rows; duckdb {q['duckdb_seconds']:.4f}s, local athena "
            f"{q['athena_seconds']:.4f}s; scanned {q['athena_scanned_bytes']} bytes, "
            f"${q['athena_cost_usd']:.6f}"
        )
    print(json.dumps(result))
    merge_into(args.out, "query", result)
    print(f"wrote {args.out} (key 'query')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
