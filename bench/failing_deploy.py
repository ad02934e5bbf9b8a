"""Stress: `doit deploy` whose first write fails, many times, counting exit codes (a crash shows as -11).

Guards the fix for CPython gh-130163 (a bare print() racing doit's sys.stdout swap segfaulted about 1 run
in 100, more under load): every run must exit 1 with its one-line error. Runs its own emulator process;
``--load`` adds a CPU-bound process for the duration, which made the crash several times likelier.

    .venv/bin/python bench/failing_deploy.py [--runs 200] [--load]

Prints the exit codes and the crashes; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOIT = [sys.executable, "-m", "doit"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(endpoint: str, method: str, route: str, payload: object = None) -> None:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(f"{endpoint}/_emulator/{route}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60):
        pass


def _wait_healthy(endpoint: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    delay = 0.05
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/_emulator/health", timeout=5):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--load", action="store_true", help="run a CPU-bound process alongside")
    args = parser.parse_args()

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="failing-deploy-") as tmp:
        emu = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--data-dir", str(Path(tmp) / "data")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.load else None
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONFAULTHANDLER": "1",
        }
        codes: collections.Counter[int] = collections.Counter()
        started = time.monotonic()
        try:
            _wait_healthy(endpoint)
            for i in range(args.runs):
                _admin(endpoint, "POST", "reset")
                fault = {"number": 1, "error_code": "AccessDenied", "status": 403}
                _admin(endpoint, "POST", "faults", {"fail_mutating_call": fault})
                db = Path(tmp) / f"deps-{i}.json"
                proc = subprocess.run(
                    [*DOIT, "--db-file", str(db), "deploy", "env=local"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                codes[proc.returncode] += 1
                if proc.returncode != 1:
                    print(f"run {i + 1}: exit {proc.returncode}\n{proc.stderr[-2000:]}", flush=True)
        finally:
            for p in (emu, burner):
                if p is not None:
                    p.terminate()
                    p.wait(timeout=30)
    crashes = sum(n for rc, n in codes.items() if rc < 0)
    print(f"exit codes: {dict(sorted(codes.items()))}")
    print(
        f"crashes: {crashes} of {args.runs} runs{' under CPU load' if args.load else ''} "
        f"({time.monotonic() - started:.0f} s); every run should exit 1"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
