"""A failure at every write of a cold deploy (and of a destroy) converges on the next run.

For each k in 1..N (N = the mutating calls of a clean cold deploy, counted by the emulator) the emulator is
reset, the k-th mutating call fails with a non-retryable error, deploy must fail naming the step that sent
it, and the next deploy must reach exactly the state a clean deploy reaches (tests/reliability/canon.py
`describe_all`), after which a third deploy makes no write at all. The loop runs in-process on the worker's
one emulator (a doit start-up per run would triple its time); test_failure_points_via_the_doit_cli proves
the exit codes and messages through the real CLI for a few k.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tasks.runner import Run
from tests.deploy_helpers import DOIT, ROOT
from tests.deploy_helpers import doit_cli as doit
from tests.reliability import canon, runs, summary
from tests.reliability.test_reliability_drift import delete_stack_keep_streams, old_table


def _fault(emu: Any, k: int) -> None:
    emu.set_faults(
        {"fail_mutating_call": {"number": k, "error_code": runs.FAIL_CODE, "status": runs.FAIL_STATUS}}
    )


def _fired(emu: Any) -> int:
    return int(emu.faults().get("fired", {}).get("fail_mutating_call", 0))


def _clean_deploy(emu: Any) -> tuple[Any, runs.Attempt, dict[str, Any]]:
    cfg = canon.config(emu)
    emu.reset()
    clean = runs.deploy(cfg)
    assert clean.code == 0, clean.message + clean.output
    return cfg, clean, canon.describe_all(emu, cfg)


def _every_write(
    emu: Any, cfg: Any, writes: list[tuple[str, str]], reference: dict[str, Any], prepare: Any
) -> dict[int, str]:
    """For each k: prepare(), fail the k-th write, deploy (must fail naming the step), deploy again (must
    reach `reference`), and a third time (must write nothing). Returns the problems by k."""
    problems: dict[int, str] = {}
    for k, (step, op) in enumerate(writes, 1):
        prepare()
        _fault(emu, k)
        failed = runs.deploy(cfg)
        fired = _fired(emu)
        emu.clear_faults()
        if failed.code == 0 or fired != 1:
            problems[k] = f"{step}/{op}: deploy exited {failed.code}, fault fired {fired}x"
            continue
        if not failed.message.startswith(f"deploy:{step} failed") or runs.FAIL_CODE not in failed.message:
            problems[k] = f"{step}/{op}: message does not name the step and error: {failed.message!r}"
            continue
        if op not in failed.message:
            problems[k] = f"{step}/{op}: message does not name the call: {failed.message!r}"
            continue
        again = runs.deploy(cfg)
        if again.code != 0:
            problems[k] = f"{step}/{op}: second deploy failed: {again.message}"
            continue
        diff = canon.first_difference(reference, canon.describe_all(emu, cfg))
        if diff:
            problems[k] = f"{step}/{op}: state differs from a clean run at {diff}"
            continue
        emu.reset_calls()
        third = runs.deploy(cfg)
        writes3 = runs.mutating(emu)
        if third.code != 0 or writes3:
            problems[k] = f"{step}/{op}: third deploy exited {third.code} with writes {writes3}"
    return problems


def test_deploy_converges_after_a_failure_at_every_write(emulator):
    cfg, clean, reference = _clean_deploy(emulator)
    writes = clean.writes
    n = len(writes)
    assert n == sum(runs.mutating(emulator).values()), (writes, runs.mutating(emulator))
    assert n >= 10, writes

    problems = _every_write(emulator, cfg, writes, reference, emulator.reset)
    summary.record(
        "deploy_failure_points",
        {
            "converged": n - len(problems),
            "tried": n,
            "writes": [f"{k}={s}/{o}" for k, (s, o) in enumerate(writes, 1)],
        },
    )
    assert not problems, "\n".join(f"k={k}: {p}" for k, p in sorted(problems.items()))


def test_destroy_finishes_after_a_failure_at_every_write(emulator):
    cfg = canon.config(emulator)
    emulator.reset()
    assert runs.deploy(cfg).code == 0
    before = canon.describe_account(emulator)
    emulator.reset_calls()
    clean = runs.destroy(cfg)
    assert clean.code == 0, clean.message + clean.output
    writes = runs.mutating(emulator)
    n = sum(writes.values())
    assert n >= 3, writes
    assert canon.leftovers(emulator, cfg) == {}
    # the account setup stays; only the env role's grants go
    account = canon.describe_account(emulator)
    assert {**before, "lf_permissions": None} == {**account, "lf_permissions": None}

    problems: dict[int, str] = {}
    for k in range(1, n + 1):
        emulator.reset()
        deployed = runs.deploy(cfg)
        assert deployed.code == 0, deployed.message
        _fault(emulator, k)
        failed = runs.destroy(cfg)
        fired = _fired(emulator)
        emulator.clear_faults()
        if failed.code == 0 or fired != 1 or runs.FAIL_CODE not in failed.message:
            problems[k] = f"destroy exited {failed.code} ({failed.message!r}), fault fired {fired}x"
            continue
        again = runs.destroy(cfg)
        if again.code != 0:
            problems[k] = f"second destroy failed: {again.message}"
            continue
        left = canon.leftovers(emulator, cfg)
        if left:
            problems[k] = f"left behind: {sorted(left)}"
            continue
        diff = canon.first_difference(account, canon.describe_account(emulator))
        if diff:
            problems[k] = f"account setup changed: {diff}"

    summary.record(
        "destroy_failure_points",
        {
            "converged": n - len(problems),
            "tried": n,
            "writes": [f"{o} x{c}" for o, c in sorted(writes.items())],
        },
    )
    assert not problems, "\n".join(f"k={k}: {p}" for k, p in sorted(problems.items()))


# The real CLI: doit runs independent steps on threads, so which step sends the k-th write depends on
# timing; what must hold is that the message names a step that writes, the failed call, and the exit code.
# (k-th write of deploy, k-th write of destroy): first, middle and last of each.
CLI_POINTS = ((1, 1), (7, 5), (13, 6))


@pytest.mark.parametrize(("k", "destroy_k"), CLI_POINTS)
def test_failure_points_via_the_doit_cli(emulator, tmp_path, k, destroy_k):
    cfg, clean, reference = _clean_deploy(emulator)
    n = len(clean.writes)
    k = min(k, n)
    ops_by_step: dict[str, set[str]] = {}
    for step, op in clean.writes:
        ops_by_step.setdefault(step, set()).add(op)

    emulator.reset()
    _fault(emulator, k)
    failed = doit(emulator, tmp_path, "deploy", "env=local")
    assert _fired(emulator) == 1
    emulator.clear_faults()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    lines = [line for line in failed.stderr.splitlines() if line.startswith("deploy:")]
    assert lines, failed.stderr
    step = lines[0].split(" ", 1)[0].removeprefix("deploy:")
    assert step in ops_by_step, lines[0]
    assert runs.FAIL_CODE in lines[0] and any(op in lines[0] for op in ops_by_step[step]), lines[0]
    assert "Traceback" not in failed.stderr
    assert len(lines) == 1 and "TaskFailed" not in failed.stderr, failed.stderr  # said once, by the step

    again = doit(emulator, tmp_path, "deploy", "env=local")
    assert again.returncode == 0, again.stdout + again.stderr
    diff = canon.first_difference(reference, canon.describe_all(emulator, cfg))
    assert not diff, diff
    emulator.reset_calls()
    third = doit(emulator, tmp_path, "deploy", "env=local")
    assert third.returncode == 0 and runs.mutating(emulator) == {}, third.stdout

    # the same for destroy: fail its k-th write, then a second destroy finishes
    _fault(emulator, destroy_k)
    broken = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert _fired(emulator) == 1
    emulator.clear_faults()
    assert broken.returncode != 0 and runs.FAIL_CODE in broken.stderr, broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr
    done = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert canon.leftovers(emulator, cfg) == {}
    summary.record(f"cli_failure_point_{k}", {"converged": True, "step": step})


# Repairs go through the update paths (a stack deleted under its streams: the import of its kept bucket and
# namespace, a change set for the rest, the grants to its new role, UpdateDestination on each stream; a
# table behind the contract: the Iceberg REST commit that widens it and PutTableMaintenanceConfiguration):
# each of their writes can fail too. (The replace path, DeleteDeliveryStream + CreateDeliveryStream,
# converged 2/2 as well; left out to keep the run short.)
REPAIRS = {"stack_deleted": delete_stack_keep_streams, "table_behind": old_table}


@pytest.mark.parametrize("drift", sorted(REPAIRS))
def test_repairing_deploy_converges_after_a_failure_at_every_write(emulator, drift):
    cfg = canon.config(emulator)

    def broken() -> None:
        emulator.reset()
        deployed = runs.deploy(cfg)
        assert deployed.code == 0, deployed.message
        REPAIRS[drift](emulator, cfg)

    broken()
    emulator.reset_calls()
    repair = runs.deploy(cfg)
    assert repair.code == 0, repair.message
    writes = repair.writes
    assert len(writes) == sum(runs.mutating(emulator).values()) >= 2, writes
    if drift == "table_behind":  # the tables step's writes through the REST endpoint and the API
        assert set(writes) == {
            ("table_traces", "UpdateTable"),
            ("table_traces", "PutTableMaintenanceConfiguration"),
        }
    reference = canon.describe_all(emulator, cfg)  # what a repair without failure reaches
    problems = _every_write(emulator, cfg, writes, reference, broken)
    summary.record(
        f"repair_failure_points_{drift}",
        {
            "converged": len(writes) - len(problems),
            "tried": len(writes),
            "writes": [f"{s}/{o}" for s, o in writes],
        },
    )
    assert not problems, "\n".join(f"k={k}: {p}" for k, p in sorted(problems.items()))


def _deploy_popen(emulator: Any, db_file: Path) -> subprocess.Popen[str]:
    """`doit deploy env=local` whose output (stderr too) the test reads line by line as it is printed."""
    env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*DOIT, "--db-file", str(db_file), "deploy", "env=local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], marker: str, *also: str) -> list[str]:
    """The lines printed up to the first holding `marker` (and every `also`), or all of them (it exited)."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line and all(a in line for a in also):
            break
    return seen


def test_deploy_killed_mid_stack_converges_on_the_next_run(emulator, tmp_path):
    """A deploy killed with SIGKILL while its stack is being created (a closed laptop, a cancelled CI job):
    its lock dies with it, and the next deploy waits for the stack, then converges. The stack is held in
    progress (an hour) until the next deploy is seen waiting, then released: no race with a loaded machine."""
    cfg, _, reference = _clean_deploy(emulator)
    emulator.reset()
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 3600.0}})
    proc = _deploy_popen(emulator, tmp_path / "killed.json")
    try:
        seen = _read_until(proc, "CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    stack = emulator.client("cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    assert stack["StackStatus"].endswith("_IN_PROGRESS"), stack["StackStatus"]

    again = _deploy_popen(emulator, tmp_path / "doit-deps.json")
    try:
        waited = "".join(_read_until(again, "waiting for it to finish"))
        emulator.clear_faults()  # the killed deploy's stack now finishes
        rest, _ = again.communicate(timeout=300)
    finally:
        emulator.clear_faults()
        if again.poll() is None:
            again.kill()
        again.wait(timeout=60)
    assert again.returncode == 0, waited + rest
    assert "waiting for it to finish" in waited
    diff = canon.first_difference(reference, canon.describe_all(emulator, cfg))
    assert not diff, diff
    emulator.reset_calls()
    assert runs.deploy(cfg).code == 0 and runs.mutating(emulator) == {}
    summary.record(
        "killed_deploy", f"SIGKILL while the stack was {stack['StackStatus']}: next deploy converged"
    )


def test_a_stream_that_fails_to_create_or_delete_is_repaired_by_the_next_run(emulator):
    """Firehose can end a create in CREATING_FAILED and a delete in DELETING_FAILED (with a
    FailureDescription): the run fails naming the stream and the reason; the next deploy deletes and
    re-creates the stream, and the next destroy force-deletes it."""
    cfg, _, reference = _clean_deploy(emulator)
    emulator.reset()
    failure = {"type": "KMS_ACCESS_DENIED", "details": "injected"}
    emulator.set_faults({"firehose_stream_failures": {"create": 1, **failure}})
    failed = runs.deploy(cfg)
    assert failed.code == 1
    assert failed.message.startswith("deploy:stream_") and "ended CREATING_FAILED: KMS_ACCESS_DENIED" in (
        failed.message
    ), failed.message
    stream = failed.message.split(" ", 1)[0].removeprefix("deploy:")

    plan = {r.name: r.diff for r in Run(cfg).plan() if r.diff is not None}
    assert [(c.action, c.reason) for c in plan[stream].changes] == [
        ("replace", "creation failed (KMS_ACCESS_DENIED: injected); delete and re-create")
    ]
    again = runs.deploy(cfg)
    assert again.code == 0, again.message
    assert "re-creating it (creation failed" in again.output
    assert not canon.first_difference(reference, canon.describe_all(emulator, cfg))

    emulator.set_faults({"firehose_stream_failures": {"delete": 1, **failure}})
    broken = runs.destroy(cfg)
    assert broken.code == 1 and "could not be deleted: DELETING_FAILED (KMS_ACCESS_DENIED" in broken.message
    done = runs.destroy(cfg)
    assert done.code == 0, done.message
    assert canon.leftovers(emulator, cfg) == {}
    assert emulator.faults()["fired"]["firehose_stream_failures"] == 2
    emulator.clear_faults()


def test_deploy_interrupted_with_ctrl_c_exits_130_with_one_line_and_the_next_run_converges(
    emulator, tmp_path
):
    """Ctrl-C (SIGINT) while the stack is being created: the EXIT_CODES promise (130 and one line, no
    traceback; doit's runner would otherwise let KeyboardInterrupt kill the process by SIGINT), and the
    same command run again picks up from what exists."""
    from tasks.errors import EXIT_INTERRUPTED
    from tasks.interrupt import MESSAGE

    cfg, _, reference = _clean_deploy(emulator)
    emulator.reset()
    emulator.set_faults({"latency": {"cloudformation_stack_seconds": 3600.0}})
    proc = _deploy_popen(emulator, tmp_path / "interrupted.json")
    try:
        seen = _read_until(proc, "CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack")
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        emulator.clear_faults()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == EXIT_INTERRUPTED, output
    assert output.strip().splitlines()[-1] == MESSAGE, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output

    again = doit(emulator, tmp_path, "deploy", "env=local")
    assert again.returncode == 0, again.stdout + again.stderr
    diff = canon.first_difference(reference, canon.describe_all(emulator, cfg))
    assert not diff, diff
    emulator.reset_calls()
