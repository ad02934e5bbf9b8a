"""bench/ingest.py's memory figures, each against a fresh `python -m tasks.receiver` process: one 6 MiB
request, and 32 clients at once (docs/ingest.md, "Memory"). `python bench/ingest.py --only
memory,concurrency`."""

from __future__ import annotations

import gzip
import http.client
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import free_port
from bench.otlp_requests import MIB, logs_request
from tasks.polling import backoff, poll_until

ROOT = Path(__file__).resolve().parent.parent


def _vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def receiver_process(emu_endpoint: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A fresh `python -m tasks.receiver` process on a free port, healthy and warmed up by one small
    request."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tasks.receiver",
            "--env",
            "local",
            "--port",
            str(port),
            "--set",
            f"endpoint={emu_endpoint}",
            "--set",
            "signals=logs,traces",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def down() -> OSError | None:
            try:
                urllib.request.urlopen(url + "/_ingest/health", timeout=2).read()
            except OSError as exc:
                return exc
            return None

        err, up = poll_until(down, lambda e: e is None, backoff(time.monotonic() + 60, first=0.1, cap=0.1))
        if not up and err is not None:
            raise err
        _post(url, logs_request(10, "warmup"))  # first request: imports and clients are warmed up
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(url: str, body: bytes) -> int:
    headers = {"Content-Type": "application/x-protobuf"}
    req = urllib.request.Request(url + "/v1/logs", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=300) as resp:
        return int(resp.status)


def _logs_of_size(size: int, instance: str) -> tuple[bytes, int]:
    """A logs request of just under `size` bytes (400-byte bodies), and its record count."""
    n = 1
    body = logs_request(n, instance, 400)
    while len(body) < size - size // 100:
        n = int(n * (size - size // 100) / len(body)) + 1
        body = logs_request(n, instance, 400)
    while len(body) > size and n > 1:
        n = max(1, n - 100)
        body = logs_request(n, instance, 400)
    return body, n


def bench_memory(emu_endpoint: str) -> dict[str, Any]:
    body, n = _logs_of_size(6 * MIB, "mem")
    with receiver_process(emu_endpoint) as (proc, url):
        idle = _vm(proc.pid, "VmRSS")
        status = _post(url, body)
        peak = _vm(proc.pid, "VmHWM")
    return {
        "request_bytes": len(body),
        "records": n,
        "status": status,
        "idle_rss_mb": round(idle / MIB, 1),
        "peak_rss_mb": round(peak / MIB, 1),
        "above_idle_over_request": round((peak - idle) / len(body), 2),
        "goal": "above_idle_over_request < 3",
    }


def bench_concurrency(
    emu_endpoint: str, clients: int = 32, rounds: int = 3, size: int = 2 * MIB
) -> dict[str, Any]:
    """`clients` threads, each posting `rounds` gzip requests back to back, all at once. A 503 is counted,
    not retried (an exporter would retry after Retry-After); anything but an HTTP answer is a reset."""
    from ingest.asgi import Limits

    body, n = _logs_of_size(size, "load")
    wire = gzip.compress(body, 1)
    limit = Limits().concurrency
    outcomes: Counter[str] = Counter()
    retry_after: set[str | None] = set()
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(port: int) -> None:
        start.wait()
        for _ in range(rounds):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
            try:
                conn.request("POST", "/v1/logs", wire, headers)
                resp = conn.getresponse()
                resp.read()
                outcome = str(resp.status)
                after = resp.getheader("Retry-After") if resp.status == 503 else None
            except OSError as exc:
                outcome, after = f"reset ({type(exc).__name__})", None
            finally:
                conn.close()
            with lock:
                outcomes[outcome] += 1
                if outcome == "503":
                    retry_after.add(after)

    with receiver_process(emu_endpoint) as (proc, url):
        port = int(url.rsplit(":", 1)[1])
        idle = _vm(proc.pid, "VmRSS")
        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(port,)) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - t0
        peak = _vm(proc.pid, "VmHWM")
    resets = sum(v for k, v in outcomes.items() if k.startswith("reset"))
    bound = len(body) * limit
    return {
        "clients": clients,
        "requests": clients * rounds,
        "request_bytes": len(body),
        "request_gzip_bytes": len(wire),
        "records_per_request": n,
        "concurrency_limit": limit,
        "outcomes": dict(sorted(outcomes.items())),
        "retry_after": sorted(str(a) for a in retry_after),
        "resets": resets,
        "seconds": round(seconds, 1),
        "idle_rss_mb": round(idle / MIB, 1),
        "peak_rss_mb": round(peak / MIB, 1),
        "above_idle_over_request_x_limit": round((peak - idle) / bound, 2),
        "goal": "resets == 0 and above_idle_over_request_x_limit < 3",
    }
