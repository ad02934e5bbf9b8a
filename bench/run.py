"""Deploy, send and verify benchmarks against a fresh local emulator.

    .venv/bin/python bench/run.py [--runs 5] [--records 100000] [--baseline-records 5000]

Starts its own emulator (``python -m emulator``) on a free port with a throw-away data dir, runs the real
`doit` CLI against it (subprocesses, so the figures are what users get), prints a table, and writes
bench/results.json and bench/RESULTS.md. Nothing is asserted: the goals are printed next to the figures.

- API calls: exact, from the emulator's counter (``/_emulator/calls``), for cold / no-op deploy, plan,
  status and destroy, with the default four signals.
- Deploy seconds: medians of N runs under the latency fault (3 s per stack operation, 2 s per stream
  create or delete). A cold run starts from a wiped emulator (``/_emulator/reset``).
- Critical path: the longest chain of the deploy graph (doit task_dep edges of `task_deploy`) weighted by
  the simulated wait each step incurs, read from the cold plan (which step creates a stack or a stream).
- Send: `doit send`'s sender (tasks/send.py) for 100,000 records to one stream, against a baseline of one
  PutRecord per record from one thread, measured on a sample.
- Time to verified: verify/delivery.py's check_delivery (the verify suite's check) per signal, from the
  start of sending until it passes.
- Emulator figures: bench/emulator.py (the Firehose-delivery engineer's script), run as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import bench_baseline, bench_send, emulator_figures, prepare_env, time_to_verified  # noqa: E402
from bench.harness import (  # noqa: E402
    ENV,
    SEND_SIGNAL,
    Calls,
    DoitRun,
    Emulator,
    critical_path,
    deploy_graph,
    doit,
    emulator_process,
    log,
    median,
    step_waits,
)
from bench.report import goal_lines, results_md, table  # noqa: E402
from bench.results import machine, write_keeping_others  # noqa: E402


def bench_deploys(emu: Emulator, work: Path, runs: int) -> dict[str, Any]:
    """Cold, no-op and sequential deploys, plan, status, destroy: seconds and exact calls."""
    deps = work / "doit-deps.json"
    out: dict[str, Any] = {"calls": {}, "seconds": {}, "runs": {}}

    emu.reset(latency=True)
    plan_cold = doit(emu, deps, "plan", "format=json")
    plan_doc = json.loads(plan_cold.stdout[plan_cold.stdout.index("{") :])
    graph = deploy_graph(emu.endpoint)
    waits = step_waits(plan_doc)
    cp_seconds, cp_steps = critical_path(graph, waits)
    out["critical_path"] = {"seconds": cp_seconds, "steps": cp_steps, "waits": waits, "graph": graph}
    log(f"critical path {cp_seconds:.1f} s: {' -> '.join(cp_steps)}")

    # One untimed cold deploy first: the emulator imports and warms up on its first stack and table
    # (its start-up, not the deploy's); reported apart as cold_first_s.
    emu.reset(latency=True)
    first = doit(emu, deps, "deploy")
    log(f"warm-up cold deploy {first.seconds:.2f} s ({first.calls.total} calls)")

    cold: list[DoitRun] = []
    noop: list[DoitRun] = []
    sequential: list[DoitRun] = []
    loads: list[float] = []
    for i in range(runs):
        # Interleaved, so a change in the machine's load during the run hits all three alike.
        emu.reset(latency=True)
        cold.append(doit(emu, deps, "deploy"))
        noop.append(doit(emu, deps, "deploy"))
        emu.reset(latency=True)
        sequential.append(doit(emu, deps, "-n", "1", "deploy"))
        loads.append(os.getloadavg()[0])
        log(
            f"run {i + 1}/{runs}: cold {cold[-1].seconds:.2f} s ({cold[-1].calls.total} calls, "
            f"cpu {cold[-1].cpu_seconds:.2f} s), no-op {noop[-1].seconds:.2f} s ({noop[-1].calls.total} "
            f"calls, cpu {noop[-1].cpu_seconds:.2f} s), sequential cold {sequential[-1].seconds:.2f} s; "
            f"load {loads[-1]:.1f}"
        )

    # The env is deployed (by the last sequential run): plan and status read it.
    plan = doit(emu, deps, "plan")
    status = doit(emu, deps, "status")
    destroy = doit(emu, deps, "destroy", "force=1")
    log(
        f"plan {plan.calls.total}, status {status.calls.total}, destroy {destroy.calls.total} calls "
        f"({destroy.seconds:.1f} s)"
    )

    def worst(rs: list[DoitRun]) -> Calls:
        return max((r.calls for r in rs), key=lambda c: (c.total, c.writes))

    out["calls"] = {
        "cold": worst(cold),
        "noop": worst(noop),
        "plan": plan.calls,
        "status": status.calls,
        "destroy": destroy.calls,
        "plan_cold": plan_cold.calls,
    }
    out["runs"] = {
        "cold_s": [round(r.seconds, 3) for r in cold],
        "noop_s": [round(r.seconds, 3) for r in noop],
        "sequential_cold_s": [round(r.seconds, 3) for r in sequential],
        "cold_first_s": round(first.seconds, 3),
        "cold_cpu_s": [round(r.cpu_seconds, 3) for r in cold],
        "noop_cpu_s": [round(r.cpu_seconds, 3) for r in noop],
        "load_average_1m": [round(x, 2) for x in loads],
        "cold_calls": [r.calls.total for r in cold],
        "noop_calls": [r.calls.total for r in noop],
        "destroy_s": round(destroy.seconds, 3),
        "status_exit_code": status.returncode,
    }
    c, n, s = (
        median(out["runs"]["cold_s"]),
        median(out["runs"]["noop_s"]),
        median(out["runs"]["sequential_cold_s"]),
    )
    out["seconds"] = {
        "cold": c,
        "noop": n,
        "sequential_cold": s,
        "critical_path": round(cp_seconds, 3),
        "cold_over_critical_path": round(c / cp_seconds, 3) if cp_seconds else float("nan"),
        "noop_over_cold": round(n / c, 3) if c else float("nan"),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="deploy runs per median (default 5)")
    parser.add_argument("--records", type=int, default=100_000, help="records for the send benchmark")
    parser.add_argument(
        "--baseline-records",
        type=int,
        default=5_000,
        help="records for the PutRecord-per-record baseline (a sample)",
    )
    parser.add_argument(
        "--emulator-records", type=int, default=100_000, help="records for bench/emulator.py (rows/s)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="where results.json/RESULTS.md go")
    args = parser.parse_args(argv)
    command = "python bench/run.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()

    started = time.monotonic()
    result: dict[str, Any] = {"machine": machine(), "runs": args.runs, "env": ENV}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp, emulator_process(Path(tmp) / "data") as emu:
        from tasks.config import CONFIG_DIR_VAR

        os.environ[CONFIG_DIR_VAR] = str(prepare_env(Path(tmp)))  # for doit's subprocesses and this one
        log(f"emulator on {emu.endpoint}; env {ENV} (a copy of env local)")
        deploys = bench_deploys(emu, Path(tmp), args.runs)
        result["deploy_calls"] = {k: v.to_dict() for k, v in deploys["calls"].items()}
        result["deploy_seconds"] = deploys["seconds"]
        result["deploy_runs"] = deploys["runs"]
        result["critical_path_steps"] = deploys["critical_path"]["steps"]
        result["critical_path_waits"] = deploys["critical_path"]["waits"]
        result["deploy_graph"] = deploys["critical_path"]["graph"]

        # A deployed env without the latency fault for sending (destroy above removed it).
        emu.reset(latency=False)
        doit(emu, Path(tmp) / "doit-deps.json", "deploy", "firehose.buffering_interval_seconds=0")
        log(f"send: {args.records:,} records to {SEND_SIGNAL}")
        emu.reset_calls()
        send = bench_send(emu.endpoint, args.records)
        put_batch_calls = Calls.of(emu.calls()).by_operation.get("firehose:PutRecordBatch", 0)
        emu.post("flush")
        log(f"baseline: {args.baseline_records:,} PutRecord calls")
        base = bench_baseline(emu.endpoint, args.baseline_records)
        emu.post("flush")
        result["send"] = {
            "records": args.records,
            "calls": put_batch_calls,
            "records_per_s": send["records_per_s"],
            "baseline_records_per_s": base["records_per_s"],
            "speedup": round(send["records_per_s"] / base["records_per_s"], 1),
            "seconds": send["seconds"],
            "failed": send["failed"],
            "baseline_records": args.baseline_records,
            "baseline_seconds": base["seconds"],
            "signal": SEND_SIGNAL,
        }
        log("time to verified")
        verified = time_to_verified(emu.endpoint)
        result["time_to_verified_s"] = verified["seconds"]
        result["verified"] = verified

    log(f"emulator figures: bench/emulator.py --records {args.emulator_records}")
    result["emulator"] = emulator_figures(args.emulator_records)
    result["elapsed_s"] = round(time.monotonic() - started, 1)

    result["goals"] = [
        {"figure": a, "value": b, "goal": g, "met": k == "met"} for a, b, g, k in goal_lines(result)
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    write_keeping_others(args.out / "results.json", result)
    (args.out / "RESULTS.md").write_text(results_md(result, command))
    print(table(result))
    print()
    for name, value, goal, met in goal_lines(result):
        print(f"{met:6}  {name}: {value} (goal {goal})")
    print(
        f"\n{command}: {result['elapsed_s']} s; "
        f"wrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
