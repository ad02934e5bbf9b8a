"""bench/query.py on a tiny lake: it runs, the engines agree on the counts and the questions, and it prints
the ratios and the bytes Athena scans.
No timing is asserted (speed is the bench's to print, not a test's to judge)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.deploy_helpers import ROOT


def test_bench_query_runs_and_both_engines_agree(tmp_path):
    out_file = tmp_path / "q.json"
    args = ["--rows", "4800", "--days", "2", "--repeat", "1", "--out", str(out_file)]
    proc = subprocess.run(
        [sys.executable, "bench/query.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out_file.read_text())["query"]
    assert doc["duckdb_count"]["rows"] == doc["pyiceberg_count"]["rows"] == 4800
    assert doc["duckdb_range"]["rows"] == doc["pyiceberg_range"]["rows"] == 4800 // 2 // 24
    assert doc["athena_count"]["rows"] == 4800 and doc["athena_range"]["rows"] == 4800 // 2 // 24
    assert doc["athena_range"]["scanned_bytes"] > 0  # what a real Athena would bill comes out of the run
    assert doc["count_ratio_pyiceberg_over_duckdb"] > 0 and doc["range_ratio_pyiceberg_over_duckdb"] > 0
    assert doc["athena_price"]["source"] == "https://aws.amazon.com/athena/pricing/"
    # each ready-made question answered alike by both engines (the bench raises otherwise), with its scan
    asked = {q["question"]: q for q in doc["questions"]}
    assert len(asked) == 4 and all(q["rows"] > 0 and q["athena_scanned_bytes"] > 0 for q in asked.values())
    assert "ratio" in proc.stdout and "scanned" in proc.stdout
