"""Local Lambda figures: the worker's cold start and a warm request, through Invoke and the
Function URL, against a fresh emulator.

    .venv/bin/python bench/lambda_url.py [--runs 10]

- Cold invoke: a new execution environment each time (an environment variable changes between runs,
  so the emulator starts a new ``python -I -S`` worker and imports the handler): wall clock of Invoke.
- Warm invoke: Invoke on the worker left warm by the previous call.
- Warm URL request: a POST through ``/_lambda-url/URL_ID/`` (auth NONE), payload format 2.0 both ways.
- Baseline: GetFunction, an API call that runs no worker, for the emulator's own share.

Medians and maxima in milliseconds. Writes them under the key "lambda" of bench/results.json (other keys,
and bench/lambda_ratio.py's "lambda" -> "url_vs_receiver", are kept) and asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.emulator import client  # noqa: E402
from bench.harness import on_fresh_emulator  # noqa: E402
from bench.results import merge_under  # noqa: E402
from emulator.testing import public_url_permissions, service_trust  # noqa: E402

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': event.get('body') or 'ok'}\n"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


def _timed(fn: Callable[[], object], runs: int, before: Callable[[int], None] | None = None) -> list[float]:
    out = []
    for i in range(runs):
        if before is not None:
            before(i)
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples), 2),
        "max_ms": round(max(samples), 2),
        "n": len(samples),
    }


def bench(endpoint: str, runs: int) -> dict[str, Any]:
    iam, lam = client(endpoint, "iam"), client(endpoint, "lambda")
    role = iam.create_role(
        RoleName="bench-fn", AssumeRolePolicyDocument=json.dumps(service_trust("lambda.amazonaws.com"))
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName="bench-fn",
        Runtime="python3.12",
        Handler="app.handler",
        Role=role,
        Code={"ZipFile": _zip()},
    )
    url = lam.create_function_url_config(FunctionName="bench-fn", AuthType="NONE")["FunctionUrl"]
    public_url_permissions(lam, "bench-fn")

    def invoke() -> None:
        lam.invoke(FunctionName="bench-fn", Payload=b"{}")["Payload"].read()

    def new_environment(i: int) -> None:
        lam.update_function_configuration(FunctionName="bench-fn", Environment={"Variables": {"RUN": str(i)}})

    def post() -> None:
        req = urllib.request.Request(url + "v1/traces", data=b'{"k": 1}', method="POST")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()

    cold = _timed(invoke, runs, new_environment)
    warm = _timed(invoke, runs)
    url_warm = _timed(post, runs)
    baseline = _timed(lambda: lam.get_function(FunctionName="bench-fn"), runs)
    return {
        "cold_invoke": _summary(cold),
        "warm_invoke": _summary(warm),
        "warm_url_request": _summary(url_warm),
        "baseline_get_function": _summary(baseline),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="samples per figure (default 10)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    result = on_fresh_emulator(
        "lambda_url.py", argv, "bench-lambda-", lambda endpoint: bench(endpoint, args.runs)
    )
    for figure, value in result.items():  # beside lambda_ratio.py's "url_vs_receiver", never over it
        merge_under(args.out, "lambda", figure, value)
    print(f"wrote {args.out} (key 'lambda')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
