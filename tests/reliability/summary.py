"""The reliability summary printed at the end of the run (registered by tests/reliability/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
from pathlib import Path
from typing import Any

# -- the summary printed at the end of the run ---------------------------------------------------------
#
# Tests call record(name, value). Without xdist, a plugin registered by the autouse fixture
# `reliability_summary` prints the figures in pytest's terminal summary. Under xdist the controller never
# imports test modules, so each worker writes its figures under build/reliability/RUN/ and the last worker
# to finish prints the whole summary on its stderr (the controller's terminal), capture or not.

SUMMARY_DIR = Path(__file__).resolve().parents[2] / "build" / "reliability"
_metrics_lock = threading.Lock()
_metrics: dict[str, Any] = {}


def record(name: str, value: Any) -> None:
    """Keep one figure for the end-of-run summary."""
    with _metrics_lock:
        _metrics[name] = value


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    def ratio(key: str) -> str:
        got = metrics.get(key)
        return f"{got['converged']}/{got['tried']}" if isinstance(got, dict) else "not run"

    cli = [v for k, v in metrics.items() if k.startswith("cli_failure_point_")]
    repairs = {
        k.removeprefix("repair_failure_points_"): v for k, v in metrics.items() if k.startswith("repair_")
    }
    lines = [
        f"failure points converged/tried: deploy {ratio('deploy_failure_points')}, "
        f"destroy {ratio('destroy_failure_points')}, via the doit CLI "
        + (f"{sum(1 for v in cli if v.get('converged'))}/{len(cli)}" if cli else "not run"),
    ]
    for name, got in sorted(repairs.items()):
        lines.append(
            f"  repair of drift {name}: {got['converged']}/{got['tried']} ({', '.join(got['writes'])})"
        )
    if isinstance(metrics.get("deploy_failure_points"), dict):
        lines.append("  deploy writes: " + ", ".join(metrics["deploy_failure_points"]["writes"]))
    if isinstance(metrics.get("destroy_failure_points"), dict):
        lines.append("  destroy writes: " + ", ".join(metrics["destroy_failure_points"]["writes"]))
    t = metrics.get("throttle")
    lines.append(
        f"retries under 30% throttling: {t['throttled']} of {t['received']} calls throttled and retried, "
        f"flow succeeded ({t['detail']})"
        if isinstance(t, dict)
        else "retries under 30% throttling: not run"
    )
    r = metrics.get("records")
    lines.append(
        f"records with 20% partial put failures: {r['sent']} sent, {r['rows']} rows, lost {r['lost']}, "
        f"duplicated {r['duplicated']} ({r['resent']} failed records resent)"
        if isinstance(r, dict)
        else "records with 20% partial put failures: not run"
    )
    drift = {
        k.removeprefix("drift_"): v
        for k, v in metrics.items()
        if k.startswith("drift_") and k != "drift_notes"
    }
    lines.append(
        f"drift scenarios repaired: {sum(1 for v in drift.values() if v == 'repaired')}/{len(drift)}"
        + (
            f" ({', '.join(sorted(k for k, v in drift.items() if v != 'repaired'))} not repaired)"
            if any(v != "repaired" for v in drift.values())
            else ""
        )
    )
    for note in metrics.get("drift_notes", []):
        lines.append(f"  note: {note}")
    for key, label in (
        ("killed_deploy", "deploy killed mid-run"),
        ("unlocked_race", "two machines racing (no shared lock)"),
        ("collateral", "collateral damage"),
        ("concurrency", "two deploys at once"),
    ):
        lines.append(f"{label}: {metrics.get(key, 'not run')}")
    return lines


class SummaryPlugin:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "reliability summary")
        for line in summary_lines(recorded()):
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: Any) -> None:
        workerinput = getattr(session.config, "workerinput", None)
        if workerinput is None:
            return
        folder = SUMMARY_DIR / str(workerinput.get("testrunuid", "run"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{workerinput.get('workerid', 'gw')}.json").write_text(json.dumps(recorded(), default=str))
        import fcntl

        with (folder / "finished").open("a+") as done:
            fcntl.flock(done, fcntl.LOCK_EX)
            done.write("x")
            done.flush()
            done.seek(0)
            finished = len(done.read())
        if finished < int(workerinput.get("workercount", 1)):
            return
        merged: dict[str, Any] = {}
        for part in sorted(folder.glob("gw*.json")):
            merged.update(json.loads(part.read_text()))
        shutil.rmtree(folder, ignore_errors=True)
        text = "\n".join(["", "=" * 30 + " reliability summary " + "=" * 30, *summary_lines(merged), ""])
        capture = session.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            import sys

            sys.stderr.write(text + "\n")
            sys.stderr.flush()


_PLUGIN = SummaryPlugin()


def recorded() -> dict[str, Any]:
    with _metrics_lock:
        return dict(_metrics)
