"""Retention on the local AWS: `doit retention` drops exactly the whole days older than the window, by
metadata alone, and nothing else; a second run drops nothing; `dry_run=1` changes nothing; records that land
during a run are all kept; a new window is applied at deploy, only with `drop=retention` when it deletes
rows, and `plan`/`status` show what the next run drops."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.budgets import RETENTION_DEPLOY_READS, RETENTION_STATUS_READS
from lake import iceberg_rest
from tasks import retention
from tasks.aws import Clients
from tests.cli import retention_helpers as rh
from tests.cli.alarm_helpers import next_minute
from tests.deploy_helpers import config, deploy, doit, mutating, run


@pytest.fixture(autouse=True)
def _no_scheduled_run(emulator):
    """The daily schedule a deploy here makes runs nothing by itself while the test runs (a run at 00:15
    UTC would drop days the test counts)."""
    rh.next_run(emulator)


def _cutoff(output: str) -> date:
    """The first day the run kept, as it printed it (`keeps 2026-11-06 on`)."""
    found = re.search(r"keeps (\d{4}-\d{2}-\d{2}) on", output)
    assert found, output
    return date.fromisoformat(found.group(1))


def _window_cutoffs(started: datetime) -> set[date]:
    """The cutoff of a 30-day window for a run between `started` and now (a test may cross midnight)."""
    return {(t - timedelta(days=30)).date() for t in (started, datetime.now(UTC))}


def test_a_run_drops_exactly_the_days_outside_the_window_and_rewrites_no_data_file(emulator, tmp_path):
    started = datetime.now(UTC)
    deploy(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 40)
    before = rh.table(emulator)
    files_before = rh.files_by_day(before)
    assert len(files_before) == 40 and rh.rows_by_day(before) == written

    run = doit(emulator, tmp_path, "retention", *rh.ARGS)
    assert run.returncode == 0, run.stdout + run.stderr
    cutoff = _cutoff(run.stdout)
    assert cutoff in _window_cutoffs(started)
    old = sorted(d for d in written if d < cutoff)
    assert len(old) in (9, 10)  # 40 days, 31 kept: today and the 30 before it (one more past midnight)
    assert (
        f"dropped {old[0]}..{old[-1]} ({len(old)} days): {3 * len(old)} rows, {len(old)} data files"
        in run.stdout
    )

    after = rh.table(emulator)
    files_after = rh.files_by_day(after)
    # No data file was rewritten or added: the files left are exactly those of the kept days, as they were.
    assert files_after == {path: day for path, day in files_before.items() if day >= cutoff}
    assert rh.rows_by_day(after) == {d: n for d, n in written.items() if d >= cutoff}
    snapshot = after.current_snapshot()
    assert snapshot is not None and snapshot.summary is not None
    summary = snapshot.summary
    assert summary.operation.value == "delete"
    assert summary["deleted-data-files"] == str(len(old)) and summary["deleted-records"] == str(3 * len(old))
    assert "added-data-files" not in summary.additional_properties
    assert summary["otlp2pipeline.retention.cutoff"] == cutoff.isoformat()

    again = doit(emulator, tmp_path, "retention", *rh.ARGS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "logs (window 30 days, keeps" in again.stdout and ": nothing to drop" in again.stdout
    assert "dropped 0 day(s), 0 rows, 0 bytes" in again.stdout
    assert rh.table(emulator).metadata_location == after.metadata_location  # no commit at all


def test_dry_run_changes_nothing_and_prints_what_it_would_drop(emulator, tmp_path):
    deploy(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 35, per_day=2)
    location = rh.table(emulator).metadata_location
    emulator.reset_calls()

    dry = doit(emulator, tmp_path, "retention", *rh.ARGS, "dry_run=1")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    cutoff = _cutoff(dry.stdout)
    old = sorted(d for d in written if d < cutoff)
    assert f"would drop {old[0]}..{old[-1]} ({len(old)} days): {2 * len(old)} rows" in dry.stdout
    assert "dry run: would drop" in dry.stdout
    assert rh.table(emulator).metadata_location == location
    assert mutating(emulator) == {}  # no commit, no metric: nothing written

    as_json = doit(emulator, tmp_path, "retention", *rh.ARGS, "dry_run=1", "format=json")
    assert as_json.returncode == 0, as_json.stderr
    assert '"state": "would drop"' in as_json.stdout and '"dry_run": true' in as_json.stdout


def test_a_run_while_records_land_keeps_every_new_row(emulator, monkeypatch):
    """Firehose commits between the run's read and its commit: the commit's requirement fails (409), the run
    plans again on the new head and commits; every row that landed is kept, the old days are gone."""
    deploy(emulator, rh.RETENTION)
    written = rh.write_days(emulator, 40, per_day=2)
    commit = iceberg_rest.IcebergRest.commit
    landed: list[tuple[str, date]] = []  # the run id and the day of the rows that landed

    def firehose_commits_first(self, namespace, table, requirements, updates):
        if not landed:  # records land (one Firehose commit) while the run is between its read and its commit
            now = datetime.now(UTC)
            landed.append((rh.send_day(emulator, now.date(), 25, hour=now.hour), now.date()))
        return commit(self, namespace, table, requirements, updates)

    monkeypatch.setattr(iceberg_rest.IcebergRest, "commit", firehose_commits_first)
    report = retention.run(Clients(config(emulator, rh.RETENTION)), say=lambda _line: None)
    (result,) = report.tables
    assert result.state == "dropped" and result.attempts == 2, result  # the first commit lost to Firehose's
    cutoff = date.fromisoformat(result.to_dict()["cutoff"])
    after = rh.table(emulator)
    [(run_id, day)] = landed
    assert rh.run_ids(after)[run_id] == 25  # every row that landed during the run
    expected = {d: n for d, n in written.items() if d >= cutoff}
    expected[day] = expected.get(day, 0) + 25
    assert rh.rows_by_day(after) == expected
    assert result.dropped.days == tuple(sorted((d - date(1970, 1, 1)).days for d in written if d < cutoff))


def test_a_new_window_is_applied_at_deploy_only_with_consent_and_plan_shows_it_first(emulator, tmp_path):
    plain = {k: v for k, v in rh.RETENTION.items() if k != "retention_days"}
    deploy(emulator, plain)
    # No rows on the day at the window's edge (30 days back): the deploy's run and the later plan and status
    # then agree on what is left, on either side of a midnight UTC between them.
    written = rh.write_days(emulator, 40, per_day=2, empty=(30,))
    args = rh.ARGS

    plan = doit(emulator, tmp_path, "plan", *args)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    head = plan.stdout.split("data these changes delete (deploy makes each only when drop= names it):\n")[1]
    assert head.startswith("  update rows outside the new window: table logs: days ")
    assert "[drop=retention] (not named: deploy refuses)" in head.splitlines()[0]

    refused = doit(emulator, tmp_path, "deploy", *args)
    assert refused.returncode == 6, refused.stdout + refused.stderr
    assert "doit deploy env=local drop=retention" in refused.stderr + refused.stdout
    assert rh.rows_by_day(rh.table(emulator)) == written  # nothing was changed

    done = doit(emulator, tmp_path, "deploy", *args, "drop=retention")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "retention env=local: logs (window 30 days" in done.stdout and ": dropped " in done.stdout
    cutoff = _cutoff(done.stdout)
    assert rh.rows_by_day(rh.table(emulator)) == {d: n for d, n in written.items() if d >= cutoff}
    stack = emulator.client("cloudformation").describe_stacks(StackName="otlp2pipeline-local")["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["RetentionWindows"] == "logs=30"

    converged = doit(emulator, tmp_path, "plan", *args, "detailed=1")
    assert converged.returncode == 0, converged.stdout + converged.stderr
    oldest = min(d for d in written if d >= cutoff)
    assert f"retention: note: table logs: oldest day {oldest}; the next run drops nothing" in converged.stdout

    next_minute(emulator)  # the alarms' first whole minute after the run: its datapoint is in their window
    status = doit(emulator, tmp_path, "status", *args)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "retention logs: window 30 days" in status.stdout, status.stdout
    assert f"note: table logs: oldest day {oldest}; the next run drops nothing" in status.stdout
    assert re.search(
        r"retention runs: last run \d{4}-\d\d-\d\d \d\d:\d\d UTC: succeeded, dropped \d+ day", status.stdout
    )


def _by_operation(emu) -> Counter[str]:
    return Counter({f"{c['service']}:{c['operation']}": c["count"] for c in emu.calls()})


def _named(reads: tuple[str, ...]) -> Counter[str]:
    """bench/budgets.py's named reads, counted by their "service:Operation"."""
    return Counter(read.split()[0] for read in reads)


def _status_calls(emu, overrides) -> Counter[str]:
    emu.reset_calls()
    status = run(emu, overrides, include_checks=True)
    results = [status.evaluate(n) for n in status.steps]
    assert all(res.error is None and res.diff is not None and res.diff.empty for res in results), results
    return _by_operation(emu)


def test_a_window_adds_only_the_named_reads_and_no_write_to_a_converged_env(emulator):
    """bench/report.py's formula: the retention zip's HeadObject and the role's GetRolePolicy (deploy, plan,
    status), the last run's GetMetricData (status); each table's manifest list is a file read here (an S3
    GetObject on AWS), not an API call of the local AWS."""
    plain = {k: v for k, v in rh.RETENTION.items() if k != "retention_days"}
    deploy(emulator, plain)
    emulator.reset_calls()
    deploy(emulator, plain)
    base = _by_operation(emulator)
    base_status = _status_calls(emulator, plain)

    deploy(emulator, rh.RETENTION)  # no rows yet: the new window drops nothing, no consent needed
    next_minute(emulator)  # the retention alarms' first minute after the deploy's run
    emulator.reset_calls()
    deploy(emulator, rh.RETENTION)
    assert mutating(emulator) == {}  # converged: not one write
    named = _named(RETENTION_DEPLOY_READS)
    assert _by_operation(emulator) - base == named and base - _by_operation(emulator) == Counter()
    emulator.reset_calls()
    assert all(p.diff is not None and p.diff.empty for p in run(emulator, rh.RETENTION).plan())
    assert _by_operation(emulator) - base == named and mutating(emulator) == {}
    status = _status_calls(emulator, rh.RETENTION)
    assert status - base_status == _named(RETENTION_STATUS_READS)
    assert base_status - status == Counter() and mutating(emulator) == {}
