"""The whole flow under 30% throttling, and exact delivery under partial put failures.

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
from collections.abc import Callable
from typing import Any

from tests.deploy_helpers import ROOT
from tests.deploy_helpers import doit_cli as doit
from tests.emulator import streams
from tests.reliability import canon, runs, summary

COUNT = 10_000
VERIFY = [sys.executable, "-m", "pytest", "verify/", "--env", "local", "-p", "no:cacheprovider", "-q"]


def _run_id(stdout: str) -> str:
    found = re.search(r"^run_id=(\S+)$", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def _count_rows(emu: Any, cfg: Any, run_id: str) -> dict[str, tuple[int, int, int]]:
    """signal -> (rows of the run, lost, duplicated)."""
    streams.flush_until_quiet(emu)
    out = {}
    for signal in cfg.signals:
        seqs = runs.rows_by_seq(emu, cfg, signal, run_id)
        lost, dup = runs.lost_and_duplicated(seqs, COUNT)
        out[signal] = (sum(seqs.values()), lost, dup)
    return out


def _sent_calls(stdout: str) -> int:
    found = re.search(r"^(\d+) AWS calls", stdout, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_deploy_send_verify_destroy_succeed_with_30_percent_of_calls_throttled(emulator, tmp_path):
    cfg = canon.config(emulator)
    emulator.set_faults({"throttle": {"fraction": 0.3, "seed": 7}})
    phases: dict[str, dict[str, Any]] = {}

    def phase(name: str, tool_calls: Callable[[Any], int] | None, body: Callable[[], Any]) -> Any:
        """Run one step of the flow; the tool's own call counter must match what the emulator received."""
        emulator.reset_calls()
        fired = int(emulator.faults()["fired"].get("throttle", 0))
        t0 = time.monotonic()
        result = body()
        received = runs.total_calls(emulator)
        phases[name] = {
            "received": received,
            "throttled": int(emulator.faults()["fired"].get("throttle", 0)) - fired,
            "seconds": time.monotonic() - t0,
        }
        if tool_calls is not None:
            assert tool_calls(result) == received, (name, tool_calls(result), received)
        return result

    deployed = phase("deploy", lambda r: r.calls, lambda: runs.deploy(cfg))
    assert deployed.code == 0, deployed.message + deployed.output

    sent = phase(
        "send",
        lambda r: _sent_calls(r.stdout),
        lambda: doit(emulator, tmp_path, "send", "env=local", f"count={COUNT}"),
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    run_id = _run_id(sent.stdout)
    for signal in cfg.signals:
        assert f"{cfg.stream_name(signal)}: sent {COUNT}, failed 0" in sent.stdout, sent.stdout

    counts = phase("count rows", None, lambda: _count_rows(emulator, cfg, run_id))
    assert counts == {s: (COUNT, 0, 0) for s in cfg.signals}, counts

    # verify's read-only checks (its delivery check sends and waits on its own; rows were counted above)
    verify = phase(
        "verify",
        None,
        lambda: subprocess.run(
            [*VERIFY, "-k", "not delivery"],
            cwd=ROOT,
            env={**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        ),
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-2000:]

    gone = phase("destroy", lambda r: r.calls, lambda: runs.destroy(cfg))
    assert gone.code == 0, gone.message + gone.output
    emulator.clear_faults()
    assert canon.leftovers(emulator, cfg) == {}

    throttled = sum(p["throttled"] for p in phases.values())
    received = sum(p["received"] for p in phases.values())
    assert 0 < throttled < received
    for name in ("deploy", "send", "destroy"):
        assert phases[name]["throttled"] > 0, phases
    summary.record(
        "throttle",
        {
            "throttled": throttled,
            "received": received,
            "detail": "; ".join(
                f"{n}: {p['throttled']}/{p['received']} in {p['seconds']:.1f}s" for n, p in phases.items()
            )
            + f"; {sum(c[0] for c in counts.values())} rows, lost 0, duplicated 0",
        },
    )


def test_partial_put_failures_lose_nothing_and_duplicate_nothing(emulator, tmp_path):
    cfg = canon.config(emulator)
    assert runs.deploy(cfg).code == 0
    emulator.set_faults({"put_record_failures": {"fraction": 0.2, "seed": 11}})
    sent = doit(emulator, tmp_path, "send", "env=local", f"count={COUNT}")
    failed_records = int(emulator.faults()["fired"].get("put_record_failures", 0))
    emulator.clear_faults()
    assert sent.returncode == 0, sent.stdout + sent.stderr
    run_id = _run_id(sent.stdout)
    counts = _count_rows(emulator, cfg, run_id)
    lost = sum(c[1] for c in counts.values())
    dup = sum(c[2] for c in counts.values())
    summary.record(
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
