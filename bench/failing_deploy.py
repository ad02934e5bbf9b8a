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
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import emulator_process  # noqa: E402

DOIT = [sys.executable, "-m", "doit"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--load", action="store_true", help="run a CPU-bound process alongside")
    args = parser.parse_args()

    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.load else None
    codes: collections.Counter[int] = collections.Counter()
    started = time.monotonic()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="failing-deploy-") as tmp,
            emulator_process(Path(tmp) / "data") as emu,
        ):
            env = {
                **os.environ,
                "AWS_ENDPOINT_URL": emu.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "PYTHONFAULTHANDLER": "1",
            }
            fault = {"number": 1, "error_code": "AccessDenied", "status": 403}
            for i in range(args.runs):
                emu.post("reset")
                emu.post("faults", {"fail_mutating_call": fault})
                proc = subprocess.run(
                    [*DOIT, "--db-file", str(Path(tmp) / f"deps-{i}.json"), "deploy", "env=local"],
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
        if burner is not None:
            burner.terminate()
            burner.wait(timeout=30)
    crashes = sum(n for rc, n in codes.items() if rc < 0)
    print(f"exit codes: {dict(sorted(codes.items()))}")
    print(
        f"crashes: {crashes} of {args.runs} runs{' under CPU load' if args.load else ''} "
        f"({time.monotonic() - started:.0f} s); every run should exit 1"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
