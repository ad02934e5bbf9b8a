"""Deploy, send and verify benchmarks against a fresh local emulator (issue 8).

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
- Send: `doit send`'s sender (lake/sender.py) for 100,000 records to one stream, against a baseline of one
  PutRecord per record from one thread, measured on a sample.
- Time to verified: verify/delivery.py's check_delivery (the verify suite's check) per signal, from the
  start of sending until it passes.
- Emulator figures: bench/emulator.py (the Firehose-delivery engineer's script), run as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.emulator import admin, free_port, wait_healthy  # noqa: E402
from tasks.aws import is_read  # noqa: E402

STACK_SECONDS = 3.0
STREAM_SECONDS = 2.0
LATENCY = {"cloudformation_stack_seconds": STACK_SECONDS, "firehose_stream_seconds": STREAM_SECONDS}
SEND_SIGNAL = "logs"
# The benchmarks deploy env `bench`, a copy of env `local` (same settings, own stack and deploy lock), so a
# `doit deploy env=local` someone runs in this tree meanwhile neither waits for nor blocks the bench.
ENV = "bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

GOALS = {
    "noop calls": "<= 15, 0 writes",
    "cold calls": "<= 60",
    "plan calls": "<= 15",
    "status calls": "<= 20 (15 + 1 Firehose role policy + 1 per table: freshness)",
    "cold_over_critical_path": "<= 1.3",
    "noop_over_cold": "<= 0.3",
    "send speedup": ">= 50",
    "emulator rows/s": ">= 20,000",
}


# -- the emulator under test ------------------------------------------------------------------------


@dataclass
class Emulator:
    """A `python -m emulator` process of our own, driven through its admin API."""

    endpoint: str
    proc: subprocess.Popen[bytes] | None = None

    def post(self, route: str, body: dict[str, Any] | None = None) -> Any:
        if body is None:
            return admin(self.endpoint, "POST", route)
        import urllib.request

        req = urllib.request.Request(
            f"{self.endpoint}/_emulator/{route}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=600) as resp:
            return json.loads(resp.read() or b"{}")

    def calls(self) -> list[dict[str, Any]]:
        return list(admin(self.endpoint, "GET", "calls")["calls"])

    def reset_calls(self) -> None:
        self.post("calls/reset")

    def reset(self, latency: bool) -> None:
        """Wipe every state (a cold account), then set the latency fault again (reset clears faults)."""
        self.post("reset")
        if latency:
            self.post("faults", {"latency": LATENCY})

    def set_latency(self, on: bool) -> None:
        self.post("faults", {"latency": LATENCY if on else None})


@contextmanager
def emulator_process(data_dir: Path) -> Iterator[Emulator]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(endpoint, proc, time.monotonic() + 60)
        yield Emulator(endpoint, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- call counts ------------------------------------------------------------------------------------


@dataclass
class Calls:
    total: int
    writes: int
    by_operation: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, snapshot: list[dict[str, Any]]) -> Calls:
        ops = {f"{c['service']}:{c['operation']}": int(c["count"]) for c in snapshot}
        writes = sum(n for key, n in ops.items() if not is_read(key.split(":", 1)[1]))
        return cls(sum(ops.values()), writes, dict(sorted(ops.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "writes": self.writes, "by_operation": self.by_operation}


# -- the doit CLI -----------------------------------------------------------------------------------


@dataclass
class DoitRun:
    args: list[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    calls: Calls
    cpu_seconds: float = 0.0  # user + system CPU of the doit process (its own work, whatever the load)


def doit(emu: Emulator, dep_file: Path, *args: str, check: bool = True, timeout: float = 600) -> DoitRun:
    """`doit ARGS endpoint=...` as a user types it, timed by wall clock, its calls counted by the emulator."""
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": emu.endpoint, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "doit",
        "--db-file",
        str(dep_file),
        *args,
        f"env={ENV}",
        f"endpoint={emu.endpoint}",
    ]
    emu.reset_calls()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run = DoitRun(list(args), seconds, proc.returncode, proc.stdout, proc.stderr, Calls.of(emu.calls()), cpu)
    if check and proc.returncode != 0:
        raise SystemExit(
            f"`doit {' '.join(args)}` exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return run


# -- critical path ----------------------------------------------------------------------------------


def deploy_graph(endpoint: str) -> dict[str, list[str]]:
    """{step: [steps it waits for]} from the task_dep edges `doit deploy` itself is built from."""
    from doit import doit_cmd

    from tasks.cli.deploy import task_deploy

    doit_cmd.reset_vars()
    doit_cmd.set_var("env", ENV)
    doit_cmd.set_var("endpoint", endpoint)
    try:
        graph: dict[str, list[str]] = {}
        for task in task_deploy():
            name = task.get("name")
            if not name or name == "summary":
                continue
            graph[name] = [d.split(":", 1)[1] for d in task.get("task_dep", [])]
    finally:
        doit_cmd._CMDLINE_VARS = None  # back to "not inside doit"
    return graph


def step_waits(plan: dict[str, Any]) -> dict[str, float]:
    """Simulated seconds each step waits in a deploy, from the plan's changes and the latency fault.

    A stack create/update is one stack operation, a replace two (delete + create); a stream create or
    delete is one stream operation, a replace two. Everything else is immediate in the emulator.
    """
    per_op = {"cloudformation stack": STACK_SECONDS, "firehose stream": STREAM_SECONDS}
    ops = {"create": 1, "update": 1, "delete": 1, "replace": 2}
    waits: dict[str, float] = {}
    for step in plan["steps"]:
        total = 0.0
        for change in step.get("changes", []):
            for prefix, seconds in per_op.items():
                if change["resource"].startswith(prefix):
                    if prefix == "firehose stream" and change["action"] == "update":
                        continue  # UpdateDestination: no status change
                    total += ops[change["action"]] * seconds
        waits[step["step"]] = total
    return waits


def critical_path(graph: dict[str, list[str]], waits: dict[str, float]) -> tuple[float, list[str]]:
    """Longest weighted chain through the DAG: (seconds, steps along it); ties go to the longer chain."""
    best: dict[str, tuple[float, list[str]]] = {}

    def visit(node: str, seen: tuple[str, ...] = ()) -> tuple[float, list[str]]:
        if node in seen:
            raise ValueError(f"cycle in the deploy graph at {node}")
        if node not in best:
            heads = [visit(dep, (*seen, node)) for dep in graph.get(node, [])]
            head = max(heads, key=lambda h: (h[0], len(h[1])), default=(0.0, []))
            best[node] = (head[0] + waits.get(node, 0.0), [*head[1], node])
        return best[node]

    return max((visit(n) for n in graph), key=lambda h: (h[0], len(h[1])), default=(0.0, []))


# -- send -------------------------------------------------------------------------------------------


def prepare_env(work: Path) -> Path:
    """A config dir whose env `bench` is the repo's env `local`; point OTLP2PIPELINE_CONFIG_DIR at it."""
    import shutil

    from tasks.config import config_dir

    src, dst = config_dir(), work / "config"
    (dst / "envs").mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "defaults.yaml", dst / "defaults.yaml")
    shutil.copy(src / "envs" / "local.yaml", dst / "envs" / f"{ENV}.yaml")
    return dst


def local_config(endpoint: str, **overrides: Any) -> Any:
    from tasks.config import load

    return load(ENV, {"endpoint": endpoint, **overrides})


def bench_send(endpoint: str, records: int, signal: str = SEND_SIGNAL) -> dict[str, Any]:
    """`doit send`'s sender, in this process: records/s and PutRecordBatch calls for `records`."""
    from lake.sender import send
    from tasks.aws import Clients

    config = local_config(endpoint)
    clients = Clients(config)
    _ = clients.firehose  # client creation is not part of sending
    t0 = time.monotonic()
    _, results = send(clients, config, [signal], records)
    seconds = time.monotonic() - t0
    res = results[0]
    return {
        "records": records,
        "sent": res.sent,
        "failed": res.failed,
        "calls": res.calls,
        "seconds": round(seconds, 3),
        "records_per_s": round(res.sent / seconds, 1),
    }


def bench_baseline(endpoint: str, records: int, signal: str = SEND_SIGNAL) -> dict[str, Any]:
    """The naive sender: one PutRecord per record, one after the other, same client settings."""
    from tasks.aws import Clients
    from tasks.records import encode, make_records, new_run_id

    config = local_config(endpoint)
    clients = Clients(config)
    fh = clients.firehose
    stream = config.stream_name(signal)
    payloads = [encode(r) for r in make_records(signal, new_run_id(), records)]
    t0 = time.monotonic()
    for data in payloads:
        fh.put_record(DeliveryStreamName=stream, Record={"Data": data})
    seconds = time.monotonic() - t0
    return {
        "records": records,
        "calls": records,
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds, 1),
    }


# -- time to verified -------------------------------------------------------------------------------


def time_to_verified(endpoint: str, per_signal: int | None = None) -> dict[str, Any]:
    """verify/delivery.py's check_delivery for every signal at once (interval-0 buffering, as local is).

    Measured from the first send to the moment the last signal's check passes; each check polls metrics
    and the error bucket and reads the rows back from the Iceberg table, as `pytest verify/` does.
    """
    from lake import sender
    from tasks.aws import Clients
    from tasks.records import RUN_ID_COLUMN, make_records, new_run_id
    from verify.delivery import check_delivery
    from verify.tables import static_table

    if per_signal is None:
        from verify.test_delivery import RECORDS_PER_SIGNAL

        per_signal = RECORDS_PER_SIGNAL
    config = local_config(endpoint, **{"firehose.buffering_interval_seconds": 0})
    clients = Clients(config)
    account = clients.account_id
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in clients.cloudformation.describe_stacks(StackName=config.stack_name)["Stacks"][0]["Outputs"]
    }
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    messages: dict[str, str] = {}
    oks: dict[str, bool] = {}

    def one(signal: str) -> None:
        run_id = new_run_id()
        records = make_records(signal, run_id, per_signal)

        def send(recs: list[dict[str, Any]]) -> int:
            starts[signal] = time.monotonic()
            _, results = sender.send(clients, config, [signal], len(recs), run_id)
            return results[0].sent

        def read_rows() -> list[dict[str, Any]]:
            table = static_table(clients, config, account, signal)
            rows = table.scan(row_filter=f"{RUN_ID_COLUMN} LIKE '{run_id}:%'").to_arrow().to_pylist()
            return list(rows)

        result = check_delivery(
            clients, config, signal, run_id, records, send, outputs["ErrorBucketName"], 60.0, read_rows
        )
        ends[signal] = time.monotonic()
        oks[signal], messages[signal] = result.ok, result.message

    threads = [threading.Thread(target=one, args=(s,)) for s in config.signals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = max(ends.values()) - min(starts.values()) if len(ends) == len(config.signals) else float("nan")
    return {
        "seconds": round(seconds, 3),
        "ok": all(oks.values()) and len(oks) == len(config.signals),
        "records_per_signal": per_signal,
        "per_signal_s": {s: round(ends[s] - starts[s], 3) for s in ends if s in starts},
        "messages": messages,
    }


# -- emulator figures (bench/emulator.py) -----------------------------------------------------------


def parse_emulator_output(out: str) -> dict[str, float]:
    """The figures bench/emulator.py prints: delivery rows/s, start-up seconds, idle RSS."""

    def number(pattern: str) -> float:
        m = re.search(pattern, out)
        return float(m.group(1).replace(",", "")) if m else float("nan")

    return {
        "rows_per_s": number(r"([\d,.]+)\s*rows/s"),
        "startup_s": number(r"start-up[^:]*:\s*([\d.]+)\s*s"),
        "idle_rss_mb": number(r"idle RSS[^:]*:\s*([\d.]+)\s*MB"),
    }


def emulator_figures(records: int) -> dict[str, Any]:
    """Run bench/emulator.py (owned by the Firehose-delivery engineer) and read its printed figures."""
    cmd = [sys.executable, str(ROOT / "bench" / "emulator.py"), "--records", str(records)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    return {
        **parse_emulator_output(proc.stdout),
        "records": records,
        "exit_code": proc.returncode,
        "output": proc.stdout.strip().splitlines(),
    }


# -- the run ----------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": round(load, 2),
    }


def ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


def goal_lines(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, goal, met?) for every goal of the issue."""
    c, s = r["deploy_calls"], r["deploy_seconds"]
    return [
        (
            "no-op deploy calls",
            f"{c['noop']['total']} ({c['noop']['writes']} writes)",
            GOALS["noop calls"],
            ok(c["noop"]["total"] <= 15 and c["noop"]["writes"] == 0),
        ),
        ("cold deploy calls", str(c["cold"]["total"]), GOALS["cold calls"], ok(c["cold"]["total"] <= 60)),
        ("plan calls", str(c["plan"]["total"]), GOALS["plan calls"], ok(c["plan"]["total"] <= 15)),
        ("status calls", str(c["status"]["total"]), GOALS["status calls"], ok(c["status"]["total"] <= 20)),
        (
            "cold / critical path",
            f"{s['cold_over_critical_path']:.2f}",
            GOALS["cold_over_critical_path"],
            ok(s["cold_over_critical_path"] <= 1.3),
        ),
        (
            "no-op / cold",
            f"{s['noop_over_cold']:.2f}",
            GOALS["noop_over_cold"],
            ok(s["noop_over_cold"] <= 0.3),
        ),
        (
            "send speedup",
            f"{r['send']['speedup']:.0f}x",
            GOALS["send speedup"],
            ok(r["send"]["speedup"] >= 50),
        ),
        (
            "emulator rows/s",
            f"{r['emulator']['rows_per_s']:,.0f}",
            GOALS["emulator rows/s"],
            ok(r["emulator"]["rows_per_s"] >= 20_000),
        ),
    ]


def table(r: dict[str, Any]) -> str:
    c, s, snd, runs = r["deploy_calls"], r["deploy_seconds"], r["send"], r["deploy_runs"]
    lines = [
        "| figure | value | goal |",
        "|---|---|---|",
    ]
    for name in ("cold", "noop", "plan", "status", "destroy"):
        lines.append(f"| {name} calls (total / writes) | {c[name]['total']} / {c[name]['writes']} | |")
    lines += [
        f"| cold deploy (median of {r['runs']}) | {s['cold']:.2f} s | |",
        f"| no-op deploy (median) | {s['noop']:.2f} s | |",
        f"| sequential cold deploy, `-n 1` (median) | {s['sequential_cold']:.2f} s | |",
        f"| first cold deploy on the fresh emulator (warm-up, not in the medians) | "
        f"{runs['cold_first_s']:.2f} s | |",
        f"| CPU of the doit process: cold / no-op (median) | {median(runs['cold_cpu_s']):.2f} s / "
        f"{median(runs['noop_cpu_s']):.2f} s | |",
        f"| machine load during the deploy runs (1-min load average, median) | "
        f"{median(runs['load_average_1m']):.1f} on {r['machine']['nproc']} CPUs | |",
        f"| critical path ({' -> '.join(r['critical_path_steps'])}) | {s['critical_path']:.2f} s | |",
        f"| cold / critical path | {s['cold_over_critical_path']:.2f} | <= 1.3 |",
        f"| no-op / cold | {s['noop_over_cold']:.2f} | <= 0.3 |",
        f"| send: {snd['records']:,} records, {snd['calls']} PutRecordBatch calls | "
        f"{snd['records_per_s']:,.0f} records/s | |",
        f"| baseline: PutRecord per record (sample of {snd['baseline_records']:,}) | "
        f"{snd['baseline_records_per_s']:,.0f} records/s | |",
        f"| send speedup | {snd['speedup']:.0f}x | >= 50 |",
        f"| time to verified ({len(r['verified']['per_signal_s'])} signals, "
        f"{r['verified']['records_per_signal']} records each, interval 0) | "
        f"{r['time_to_verified_s']:.2f} s | |",
        f"| emulator delivery | {r['emulator']['rows_per_s']:,.0f} rows/s | >= 20,000 |",
        f"| emulator start-up | {r['emulator']['startup_s']:.2f} s | |",
        f"| emulator idle RSS | {r['emulator']['idle_rss_mb']:.0f} MB | |",
    ]
    return "\n".join(lines)


def results_md(r: dict[str, Any], command: str) -> str:
    m = r["machine"]
    goals = "\n".join(f"| {a} | {b} | {g} | {k} |" for a, b, g, k in goal_lines(r))
    steps = r.get("critical_path_steps", [])
    cp_waits = r.get("critical_path_waits", {})
    waits = " -> ".join(f"{st} ({cp_waits.get(st, 0):g} s)" for st in steps)
    return f"""# Benchmark results

Latest run of `{command}` (bench/run.py; figures also in bench/results.json).

Machine: {m["nproc"]} CPUs (nproc), {m["memory_gb"]} GB memory, Python {m["python"]}, {m["platform"]},
{m["date"]}, load average {m["load_average_at_start"]} at start.

Deploys run through the real `doit` CLI against a fresh local emulator under its latency fault
({STACK_SECONDS:g} s per stack operation, {STREAM_SECONDS:g} s per stream create or delete); seconds are
medians of {r["runs"]} runs, wall clock of the `doit` process. Call counts are exact, from the emulator's
counter, with the four default signals (cold and no-op: the highest of the runs).

{table(r)}

## Goals

| figure | value | goal | |
|---|---|---|---|
{goals}

## Where the figures come from

- Critical path: the longest chain of `doit deploy`'s task_dep edges, each step weighted by the simulated
  waits its cold plan implies: {waits}.
- Cold deploy calls by operation: {ops(r["deploy_calls"]["cold"])}.
- No-op deploy calls by operation: {ops(r["deploy_calls"]["noop"])}.
- Send: `lake.sender.send` (what `doit send` runs: build the records, PutRecordBatch of <= 500 on a
  small thread pool) for {r["send"]["records"]:,} records to one stream; the baseline is one PutRecord per
  record from one thread, same client settings, on a sample of {r["send"]["baseline_records"]:,} records.
- Time to verified: `verify.delivery.check_delivery` (the check `pytest verify/` runs) for every signal at
  once, buffering interval 0, from the first send until the last check passes (rows read back from Iceberg).
- Emulator figures: `bench/emulator.py --records {r["emulator"].get("records", "?")}`, run as is.
"""


def ops(calls: dict[str, Any]) -> str:
    by_op = calls.get("by_operation", {})
    return ", ".join(f"{op} {n}" for op, n in sorted(by_op.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


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
    (args.out / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
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
