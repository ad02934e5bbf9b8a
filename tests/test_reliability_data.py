"""Issue 7.2 and 7.3: the whole flow under 30% throttling, and exact delivery under partial put failures.

Rows are counted in the Iceberg tables by run id and sequence number (`service_instance_id` =
`RUN_ID:SEQ`, tasks.records.parse_key): a missing sequence number is a lost record, a second row for
the same one is a duplicate.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import Any

from tests import reliability_helpers as rh
from tests.deploy_helpers import ROOT, doit
from tests.reliability_helpers import reliability_summary  # noqa: F401

COUNT = 10_000


def _run_id(stdout: str) -> str:
    found = re.search(r"^run_id=(\S+)$", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def _count_rows(emu: Any, cfg: Any, run_id: str) -> dict[str, tuple[int, int, int]]:
    """signal -> (rows of the run, lost, duplicated)."""
    rh.flush_until_quiet(emu)
    out = {}
    for signal in cfg.signals:
        seqs = rh.rows_by_seq(emu, cfg, signal, run_id)
        lost, dup = rh.lost_and_duplicated(seqs, COUNT)
        out[signal] = (sum(seqs.values()), lost, dup)
    return out


def _sent_calls(stdout: str) -> int:
    found = re.search(r"^(\d+) AWS calls", stdout, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_deploy_send_verify_destroy_succeed_with_30_percent_of_calls_throttled(emulator, tmp_path):
    cfg = rh.config(emulator)
    emulator.set_faults({"throttle": {"fraction": 0.3, "seed": 7}})
    emulator.reset_calls()
    took: dict[str, float] = {}

    t0 = time.monotonic()
    deployed = rh.deploy(cfg)
    assert deployed.code == 0, deployed.message + deployed.output
    took["deploy"] = time.monotonic() - t0

    t0 = time.monotonic()
    sent = doit(emulator, tmp_path, "send", "env=local", f"count={COUNT}")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    run_id = _run_id(sent.stdout)
    for signal in cfg.signals:
        assert f"{cfg.stream_name(signal)}: sent {COUNT}, failed 0" in sent.stdout, sent.stdout
    took["send"] = time.monotonic() - t0

    t0 = time.monotonic()
    counts = _count_rows(emulator, cfg, run_id)
    assert counts == {s: (COUNT, 0, 0) for s in cfg.signals}, counts
    took["count"] = time.monotonic() - t0

    # verify's read-only checks (delivery sends and waits on its own; rows were counted above)
    t0 = time.monotonic()
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "verify/",
            "--env",
            "local",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            "not delivery",
        ],
        cwd=ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-2000:]
    status = rh.status_doc(cfg)
    assert status["healthy"], rh.drifting(status)
    took["verify"] = time.monotonic() - t0

    t0 = time.monotonic()
    gone = rh.destroy(cfg)
    assert gone.code == 0, gone.message + gone.output
    took["destroy"] = time.monotonic() - t0

    throttled = int(emulator.faults()["fired"].get("throttle", 0))
    received = rh.total_calls(emulator)
    emulator.clear_faults()
    assert rh.leftovers(emulator, cfg) == {}
    assert 0 < throttled < received
    rh.record(
        "throttle",
        {
            "throttled": throttled,
            "received": received,
            "detail": f"deploy {deployed.calls}, send {_sent_calls(sent.stdout)}, destroy {gone.calls} calls "
            f"by the tool incl. retries; {sum(c[0] for c in counts.values())} rows, lost 0, duplicated 0; "
            + ", ".join(f"{k} {v:.1f}s" for k, v in took.items()),
        },
    )


def test_partial_put_failures_lose_nothing_and_duplicate_nothing(emulator, tmp_path):
    cfg = rh.config(emulator)
    assert rh.deploy(cfg).code == 0
    emulator.set_faults({"put_record_failures": {"fraction": 0.2, "seed": 11}})
    sent = doit(emulator, tmp_path, "send", "env=local", f"count={COUNT}")
    failed_records = int(emulator.faults()["fired"].get("put_record_failures", 0))
    emulator.clear_faults()
    assert sent.returncode == 0, sent.stdout + sent.stderr
    run_id = _run_id(sent.stdout)
    counts = _count_rows(emulator, cfg, run_id)
    lost = sum(c[1] for c in counts.values())
    dup = sum(c[2] for c in counts.values())
    rh.record(
        "records",
        {
            "sent": COUNT * len(cfg.signals),
            "rows": sum(c[0] for c in counts.values()),
            "lost": lost,
            "duplicated": dup,
            "resent": failed_records,
        },
    )
    assert failed_records >= COUNT * len(cfg.signals) * 0.2
    assert counts == {s: (COUNT, 0, 0) for s in cfg.signals}, counts
