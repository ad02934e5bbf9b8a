"""bench/run.py's pieces run on a tiny size against the test emulator. No timing is asserted: only that each
piece runs, counts what it says it counts, and that the critical path is derived from the deploy graph."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import budgets, figures, harness, report, results


def test_critical_path_is_the_heaviest_chain_of_the_graph() -> None:
    graph = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": []}
    waits = {"a": 1.0, "b": 3.0, "c": 2.0, "d": 0.5, "e": 4.0}
    assert harness.critical_path(graph, waits) == (4.5, ["a", "b", "d"])
    with pytest.raises(ValueError, match="cycle"):
        harness.critical_path({"x": ["y"], "y": ["x"]}, {})


def test_step_waits_come_from_the_plan_and_the_latency_fault() -> None:
    plan = {
        "steps": [
            {"step": "stack", "changes": [{"action": "create", "resource": "cloudformation stack s"}]},
            {"step": "stream_logs", "changes": [{"action": "replace", "resource": "firehose stream x"}]},
            {"step": "stream_sum", "changes": [{"action": "update", "resource": "firehose stream y"}]},
            {"step": "grants", "changes": [{"action": "create", "resource": "lake formation grant"}]},
        ]
    }
    assert harness.step_waits(plan) == {
        "stack": harness.STACK_SECONDS,
        "stream_logs": 2 * harness.STREAM_SECONDS,
        "stream_sum": 0.0,
        "grants": 0.0,
    }


@pytest.fixture
def bench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's env (a copy of env local), as bench/run.py sets it up."""
    from tasks.config import CONFIG_DIR_VAR

    monkeypatch.setenv(CONFIG_DIR_VAR, str(figures.prepare_env(tmp_path)))


def test_bench_env_is_env_local_under_another_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.config import CONFIG_DIR_VAR, load

    local = load("local", {"endpoint": "http://127.0.0.1:1"})
    monkeypatch.setenv(CONFIG_DIR_VAR, str(figures.prepare_env(tmp_path)))
    cfg = figures.local_config("http://127.0.0.1:1")
    assert cfg.env == harness.ENV and cfg.stack_name != local.stack_name
    assert (cfg.signals, cfg.firehose, cfg.region, cfg.is_local) == (
        local.signals,
        local.firehose,
        local.region,
        local.is_local,
    )


def test_cold_plan_graph_and_critical_path_from_the_real_cli(
    emulator: Any, tmp_path: Path, bench_env: None
) -> None:
    emu = harness.Emulator(emulator.endpoint)
    plan = harness.doit(emu, tmp_path / "deps.json", "plan", "format=json")
    assert plan.calls.writes == 0 and plan.calls.total > 0
    graph = harness.deploy_graph(emulator.endpoint)
    assert "grants" in graph["stream_logs"] and "stack" in graph["grants"]
    doc = json.loads(plan.stdout[plan.stdout.index("{") :])
    seconds, steps = harness.critical_path(graph, harness.step_waits(doc))
    # One stack create and one stream create on the longest chain, whatever the step names around them.
    assert seconds == harness.STACK_SECONDS + harness.STREAM_SECONDS
    assert "stack" in steps and steps[-1].startswith("stream_")


def _deploy(endpoint: str) -> None:
    from tasks.runner import Run

    Run(figures.local_config(endpoint)).deploy_sequential()


def test_send_baseline_and_time_to_verified_run_on_a_tiny_size(emulator: Any, bench_env: None) -> None:
    _deploy(emulator.endpoint)
    emulator.reset_calls()
    send = figures.bench_send(emulator.endpoint, 620)
    assert send["sent"] == 620 and send["failed"] == 0 and send["calls"] == 2
    assert emulator.call_count("firehose", "PutRecordBatch") == 2

    emulator.reset_calls()
    base = figures.bench_baseline(emulator.endpoint, 3)
    assert base["calls"] == 3 and emulator.call_count("firehose", "PutRecord") == 3

    verified = figures.time_to_verified(emulator.endpoint, per_signal=2)
    assert verified["ok"], verified["messages"]
    assert set(verified["per_signal_s"]) == set(figures.local_config(emulator.endpoint).signals)
    assert verified["seconds"] >= max(verified["per_signal_s"].values())


def test_calls_split_reads_and_writes() -> None:
    calls = harness.Calls.of(
        [
            {"service": "firehose", "operation": "DescribeDeliveryStream", "count": 3},
            {"service": "firehose", "operation": "CreateDeliveryStream", "count": 1},
            {"service": "sts", "operation": "GetCallerIdentity", "count": 1},
        ]
    )
    assert (calls.total, calls.writes) == (5, 1)


def test_emulator_output_is_parsed() -> None:
    out = (
        "delivery throughput:       21,345 rows/s   (goal >= 20,000)\n"
        "start-up (to /health):     1.37 s   (goal < 3 s)\n"
        "idle RSS:                  197 MB   (goal < 300 MB)\n"
    )
    assert figures.parse_emulator_output(out) == {
        "rows_per_s": 21345.0,
        "startup_s": 1.37,
        "idle_rss_mb": 197.0,
    }
    assert all(math.isnan(v) for v in figures.parse_emulator_output("").values())


def _result() -> dict[str, Any]:
    calls = {"total": 10, "writes": 0, "by_operation": {}}
    return {
        "machine": results.machine(),
        "runs": 1,
        "deploy_calls": {k: calls for k in ("cold", "noop", "plan", "status", "destroy")},
        "deploy_seconds": {
            "cold": 6.0,
            "noop": 1.0,
            "sequential_cold": 12.0,
            "critical_path": 5.0,
            "cold_over_critical_path": 1.2,
            "noop_over_cold": 0.17,
        },
        "deploy_runs": {
            "cold_first_s": 7.0,
            "cold_cpu_s": [0.9],
            "noop_cpu_s": [0.8],
            "load_average_1m": [1.0],
        },
        "critical_path_steps": ["stack", "grants", "stream_logs"],
        "send": {
            "records": 100,
            "calls": 1,
            "records_per_s": 1000.0,
            "baseline_records_per_s": 10.0,
            "speedup": 100.0,
            "baseline_records": 10,
        },
        "time_to_verified_s": 1.0,
        "verified": {"per_signal_s": {"logs": 1.0}, "records_per_signal": 5},
        "emulator": {"rows_per_s": 25000.0, "startup_s": 1.0, "idle_rss_mb": 200.0},
    }


def test_table_and_results_md_render_every_goal() -> None:
    r = _result()
    md = report.results_md(r, "python bench/run.py")
    assert "python bench/run.py" in md and "nproc" in md
    goals = report.goal_lines(r)
    assert len(goals) == len(report.GOALS) and all(met == "met" for *_, met in goals)
    r["deploy_calls"]["noop"] = {"total": 10, "writes": 1, "by_operation": {}}
    assert report.goal_lines(r)[0][3] == "MISSED"


def test_the_call_goals_are_the_15_reads_plus_the_calls_the_design_names():
    """No-op/plan: 15 + each stream's tags + the readers' record + the alarms' one DescribeAlarms + the zip
    HeadObject + the tables step's 10 (ListTables, GetConfig, and per table LoadTable +
    GetTableMaintenanceConfiguration); status: those + 1 freshness read per table + the function's two
    reads; cold: 60 + per table GetTableMaintenanceConfiguration, CreateTable; ListTables, GetTableBucket;
    the readers' record; the alarms' DescribeAlarms."""
    assert (budgets.NOOP_LIMIT, budgets.PLAN_LIMIT, budgets.STATUS_LIMIT, budgets.COLD_LIMIT) == (
        32,
        32,
        38,
        72,
    )
    assert "4 stream tags" in report.GOALS["noop calls"]
    for call in (
        "s3:HeadObject",
        "lambda:GetFunction",
        "lambda:GetFunctionUrlConfig",
        "cloudwatch:DescribeAlarms",
        "s3tables:LoadTable",
    ):
        assert call in report.GOALS["status calls"]
    for call in (
        "s3tables:ListTables",
        "s3tables:GetConfig",
        "s3tables:GetTableMaintenanceConfiguration",
        "ssm:GetParameter",
    ):
        assert call in report.GOALS["noop calls"]
    r = _result()
    r["deploy_calls"]["status"] = {"total": budgets.STATUS_LIMIT, "writes": 0, "by_operation": {}}
    met = {name: k for name, _, _, k in report.goal_lines(r)}
    assert met["status calls"] == "met"
    r["deploy_calls"]["status"] = {"total": budgets.STATUS_LIMIT + 1, "writes": 0, "by_operation": {}}
    assert {name: k for name, _, _, k in report.goal_lines(r)}["status calls"] == "MISSED"


def test_run_py_rewrites_results_json_keeping_the_other_scripts_sections(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results.merge_into(path, "query", {"rows": 1})  # bench/query.py's section
    path.write_text(json.dumps({**json.loads(path.read_text()), "runs": 5}))
    results.write_keeping_others(path, {"runs": 1})
    assert json.loads(path.read_text()) == {"runs": 1, "query": {"rows": 1}}


def test_failing_deploy_stress_counts_exit_codes():
    """bench/failing_deploy.py on 2 runs: its own emulator, a fault at the first write, exit 1 each time."""
    proc = subprocess.run(
        [sys.executable, "bench/failing_deploy.py", "--runs", "2"],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exit codes: {1: 2}" in proc.stdout and "crashes: 0 of 2 runs" in proc.stdout, proc.stdout
