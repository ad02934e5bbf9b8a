"""The cost of one request through the local Function URL against the same request to `doit ingest`'s receiver
(one run, the ratio of the medians).

    .venv/bin/python bench/lambda_ratio.py [--requests 30] [--records 100]

One run, one emulator process, one deployed `local` env (every signal, token auth): the same protobuf logs
request (N records) is posted to the env's Function URL (the local AWS runs the deployed zip in its worker
process) and to `doit ingest`'s receiver (`python -m tasks.receiver`, its own process) in front of the same
streams, alternately, after one warm-up request each (the worker's cold start is bench/lambda_url.py's
figure). Both answers must be 200. The figure is the ratio of the medians (Function URL / receiver): what
the Lambda path adds locally (event encoding, the worker hop), not what AWS costs.

It writes the figures into bench/results.json under "lambda" -> "url_vs_receiver" (every other key, and
the other entries of "lambda", are kept) and asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import free_port, on_fresh_emulator  # noqa: E402
from bench.otlp_requests import logs_request  # noqa: E402
from bench.results import merge_under  # noqa: E402
from lake.signals import ALL_SIGNALS  # noqa: E402
from tasks.polling import backoff, poll_until  # noqa: E402

KEY = "url_vs_receiver"
RECEIVER = (sys.executable, "-m", "tasks.receiver", "--env", "local")


def _timed(send: Any, body: bytes) -> float:
    t0 = time.perf_counter()
    status = send(body)
    elapsed = time.perf_counter() - t0
    if status != 200:
        raise SystemExit(f"bench: a request was answered {status}, not 200")
    return elapsed


def bench_ratio(emu_endpoint: str, requests: int, records: int) -> dict[str, Any]:
    from tasks.aws import Clients
    from tasks.config import load
    from tasks.connect import read
    from tasks.receiver_ctl import health
    from tasks.runner import Run
    from verify.otlp_post import post

    signals = ",".join(ALL_SIGNALS)
    config = load("local", {"endpoint": emu_endpoint, "signals": signals})
    failed = [r for r in Run(config).deploy_sequential() if r.error]
    if failed:
        raise SystemExit(f"bench: deploy:{failed[0].name} failed: {failed[0].error}")
    conn = read(config, Clients(config))
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(  # `doit ingest`'s receiver: `python -m tasks.receiver` in its own process
        [*RECEIVER, "--port", str(port), "--set", f"endpoint={emu_endpoint}", "--set", f"signals={signals}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        delays = backoff(time.monotonic() + 60, first=0.01, cap=0.1)
        answer, _ = poll_until(
            lambda: health(receiver_url), lambda h: h is not None or proc.poll() is not None, delays
        )
        if answer is None:  # the receiver exited, or the deadline passed
            raise SystemExit("bench: the receiver did not become healthy")

        def to_url(body: bytes) -> int:
            return post(conn.endpoint, "v1/logs", body, token=conn.token).status

        def to_receiver(body: bytes) -> int:
            return post(receiver_url, "v1/logs", body).status

        body = logs_request(records, "bench-lambda")
        cold = {"url": _timed(to_url, body), "receiver": _timed(to_receiver, body)}
        url_s: list[float] = []
        rec_s: list[float] = []
        for _ in range(requests):  # alternate, so drift of the machine hits both alike
            url_s.append(_timed(to_url, body))
            rec_s.append(_timed(to_receiver, body))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    url_med, rec_med = statistics.median(url_s), statistics.median(rec_s)
    return {
        "requests": requests,
        "records_per_request": records,
        "request_bytes": len(body),
        "auth": conn.auth,
        "first_request_ms": {k: round(v * 1000, 2) for k, v in cold.items()},
        "function_url_median_ms": round(url_med * 1000, 2),
        "receiver_median_ms": round(rec_med * 1000, 2),
        "function_url_p90_ms": round(sorted(url_s)[int(0.9 * (len(url_s) - 1))] * 1000, 2),
        "receiver_p90_ms": round(sorted(rec_s)[int(0.9 * (len(rec_s) - 1))] * 1000, 2),
        "ratio_url_over_receiver": round(url_med / rec_med, 2),
    }


def merge(out: Path, result: dict[str, Any]) -> None:
    """Write `result` under lambda -> url_vs_receiver, keeping every other key."""
    merge_under(out, "lambda", KEY, result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per path (default 30)")
    parser.add_argument("--records", type=int, default=100, help="log records per request (default 100)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    result = on_fresh_emulator(
        "lambda_ratio.py",
        argv,
        "bench-lambda-",
        lambda endpoint: bench_ratio(endpoint, args.requests, args.records),
    )
    merge(args.out, result)
    print(f"wrote {args.out} (key 'lambda' -> '{KEY}')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
