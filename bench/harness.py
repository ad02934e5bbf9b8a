"""bench/run.py's harness: its own emulator process, exact call counts, the doit CLI as a user types it,
and the critical path of the deploy graph weighted by the latency fault's waits; ``on_fresh_emulator`` is
one run of a smaller bench script (bench/lambda_*.py) against its own emulator process."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.emulator import free_port, wait_healthy  # noqa: E402
from bench.results import machine  # noqa: E402
from emulator.admin.client import AdminClient  # noqa: E402
from tasks.aws import is_read  # noqa: E402

STACK_SECONDS = 3.0
STREAM_SECONDS = 2.0
LATENCY = {"cloudformation_stack_seconds": STACK_SECONDS, "firehose_stream_seconds": STREAM_SECONDS}
SEND_SIGNAL = "logs"
# The benchmarks deploy env `bench`, a copy of env `local` (same settings, own stack and deploy lock), so a
# `doit deploy env=local` someone runs in this tree meanwhile neither waits for nor blocks the bench.
ENV = "bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


# -- the emulator under test ------------------------------------------------------------------------


@dataclass
class Emulator:
    """A `python -m emulator` process of our own, driven through its admin API."""

    endpoint: str
    proc: subprocess.Popen[bytes] | None = None

    def post(self, route: str, body: dict[str, Any] | None = None) -> Any:
        return AdminClient(self.endpoint, timeout=600).request("POST", route, body)

    def calls(self) -> list[dict[str, Any]]:
        return AdminClient(self.endpoint, timeout=600).calls()

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


def on_fresh_emulator(
    script: str, argv: list[str] | None, prefix: str, measure: Callable[[str], dict[str, Any]]
) -> dict[str, Any]:
    """The machine and command line of a run of bench/`script`, with the figures `measure(endpoint)` takes
    against an emulator process of its own (throw-away data dir); printed as JSON and returned."""
    result: dict[str, Any] = {
        "machine": machine(),
        "command": f"python bench/{script} " + " ".join(argv or sys.argv[1:]),
    }
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        emulator_process(Path(tmp) / "data") as emu,
    ):
        result.update(measure(emu.endpoint))
    print(json.dumps(result, indent=2), flush=True)
    return result


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


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
