"""`doit query`'s engine against pyiceberg: count(*) and a one-hour range over N log rows in the local lake.

Starts an in-process emulator (free port, throw-away data dir), deploys env `local` with only `logs`, writes N
rows spread evenly over D days straight into the emulator's Iceberg store (one commit, so one data file, per
day: the layout Firehose's daily partitions give), then times, R times each (median):

- DuckDB through tasks/query.py (the views `doit query` makes): `count(*)` and a one-hour `timestamp` range;
- pyiceberg: `StaticTable.from_metadata(...).scan().to_arrow()` for the count, and the same scan with the
  hour as `row_filter` for the range.

    .venv/bin/python bench/query.py [--rows 1000000] [--days 10] [--repeat 5] [--json out.json]

Prints the figures and the ratios (pyiceberg seconds / DuckDB seconds); both engines must agree on the
counts. Nothing is asserted about speed.
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

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def day_table(schema: Any, day: int, rows: int) -> Any:
    """`rows` log rows evenly over one day, every required column filled (vectorised: no Python loop)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seq = pa.array(range(rows), pa.int64())
    base = int((START + dt.timedelta(days=day)).timestamp()) * 1_000_000
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
    from tasks.aws import Clients
    from tasks.config import load
    from tasks.query import open_env
    from tasks.runner import Run

    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        server = EmulatorServer(port=0, data_dir=Path(tmp) / "data").start()
        try:
            cfg = load("local", {"endpoint": server.endpoint, "signals": "logs"})
            with contextlib.redirect_stdout(io.StringIO()):  # the deploy's progress lines
                Run(cfg).deploy_sequential()
            store = get_store()
            bucket = cfg.table_bucket_arn(ACCOUNT_ID)
            schema = store.schema(bucket, cfg.namespace, "logs").as_arrow()
            per_day = args.rows // args.days
            t0 = time.perf_counter()
            for day in range(args.days):
                rows = per_day + (args.rows - per_day * args.days if day == args.days - 1 else 0)
                store.append(bucket, cfg.namespace, "logs", day_table(schema, day, rows))
            load_seconds = time.perf_counter() - t0

            t0 = time.perf_counter()
            conn, refs = open_env(Clients(cfg), cfg)
            open_seconds = time.perf_counter() - t0
            location = refs[0].metadata_location
            lo = START + dt.timedelta(days=args.days // 2, hours=12)
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

            figures: dict[str, Any] = {}
            for name, fn in (
                ("duckdb_count", duck("select count(*) from logs")),
                ("duckdb_range", duck(f"select count(*) from logs where {where}")),
                ("pyiceberg_count", ice_count),
                ("pyiceberg_range", ice_range),
            ):
                seconds, count = timed(fn, args.repeat)
                figures[name] = {"seconds": round(seconds, 4), "rows": count}
            conn.close()
        finally:
            server.stop()

    for kind in ("count", "range"):
        if figures[f"duckdb_{kind}"]["rows"] != figures[f"pyiceberg_{kind}"]["rows"]:
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
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"{args.rows} log rows over {args.days} days ({args.days} data files); median of {args.repeat}")
    print(f"  duckdb open (GetTableMetadataLocation + LOADs + views): {open_seconds:.3f}s")
    for kind, label in (("count", "count(*)"), ("range", "one-hour range")):
        d, p = figures[f"duckdb_{kind}"], figures[f"pyiceberg_{kind}"]
        print(
            f"  {label:15} duckdb {d['seconds']:.4f}s  pyiceberg {p['seconds']:.4f}s  "
            f"ratio {result[f'{kind}_ratio_pyiceberg_over_duckdb']}x  ({d['rows']} rows)"
        )
    print(json.dumps(result))
    merge_into(args.out, "query", result)
    print(f"wrote {args.out} (key 'query')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
