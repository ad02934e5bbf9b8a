"""Retention's pure parts and settings: the cutoff day, the windows, `retention_days` / `retention.SIGNAL`
(one settings table: defaults, validation, the command line), and a run refused before any AWS call."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from retention.preview import Preview
from retention.windows import EPOCH_DAY, cutoff_day, day_text, days_text, format_windows, parse_windows
from tasks import config as cfg
from tasks.errors import UserError
from tasks.retention import reclaim_days
from tests.unit.tasks.template.helpers import DOIT, ROOT, no_credentials_env, recording_endpoint


def _day(d: date) -> int:
    return (d - EPOCH_DAY).days


@pytest.mark.parametrize(
    ("now", "days", "first_kept"),
    [
        (datetime(2026, 11, 10, 0, 15, tzinfo=UTC), 30, date(2026, 10, 11)),  # the daily run
        (datetime(2026, 11, 10, 23, 59, 59, tzinfo=UTC), 30, date(2026, 10, 11)),  # the same UTC day
        (datetime(2026, 11, 11, 0, 0, tzinfo=UTC), 30, date(2026, 10, 12)),  # a day later, a day later
        (datetime(2026, 11, 10, 0, 15, tzinfo=UTC), 1, date(2026, 11, 9)),  # keeps yesterday and today
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), 1, date(2026, 2, 28)),
    ],
)
def test_the_cutoff_keeps_every_row_younger_than_the_window(now, days, first_kept):
    cutoff = cutoff_day(now, days)
    assert cutoff == _day(first_kept)
    # every row of a dropped day is older than the window; the oldest kept row is at most a day older
    assert datetime.combine(first_kept, datetime.min.time(), UTC) <= now - timedelta(days=days)
    assert now - datetime.combine(first_kept, datetime.min.time(), UTC) < timedelta(days=days + 1)


def test_a_naive_time_is_utc():
    assert cutoff_day(datetime(2026, 11, 10, 0, 15), 30) == _day(date(2026, 10, 11))


def test_windows_travel_as_one_string():
    windows = {"logs": 30, "traces": 7}
    assert format_windows(windows) == "logs=30,traces=7"
    assert parse_windows("logs=30,traces=7") == windows and parse_windows("") == {}
    for bad in ("logs", "logs=", "logs=0", "logs=x", "=3"):
        with pytest.raises(ValueError, match="TABLE=DAYS"):
            parse_windows(bad)
    assert day_text(_day(date(2026, 10, 1))) == "2026-10-01"
    assert days_text((_day(date(2026, 10, 1)), _day(date(2026, 10, 3)), _day(date(2026, 10, 2)))) == (
        "2026-10-01..2026-10-03 (3 days)"
    )
    assert days_text(()) == "none"


def test_the_preview_says_what_the_next_run_drops():
    cutoff = _day(date(2026, 10, 11))
    assert Preview(cutoff, None).text() == "no rows yet; the next run drops nothing"
    kept = Preview(cutoff, cutoff)
    assert not kept.drops and kept.text().endswith("drops nothing (the window starts 2026-10-11)")
    old = Preview(cutoff, cutoff - 3, files=6, rows=600, spanning=1)
    assert old.days == (cutoff - 3, cutoff - 2, cutoff - 1)
    assert old.text() == (
        "oldest day 2026-10-08; the next run drops days before 2026-10-11: at most 2026-10-08..2026-10-10 "
        "(3 days), 600 rows in 6 data files, and the older days of 1 manifest(s) that span 2026-10-11"
    )


def test_retention_settings_default_to_keeping_everything_and_a_signal_overrides_the_env():
    plain = cfg.load("prod")
    assert plain.retention.days is None and plain.retention_windows == {} and not plain.retention_enabled
    both = cfg.load("prod", {"retention_days": "30", "retention.traces": "7", "retention.histogram": "3"})
    # every table of the env's signals has a window; a signal the env does not have has no table
    assert both.retention_windows == {"logs": 30, "traces": 7, "sum": 30, "gauge": 30}
    only = cfg.load("prod", {"retention.logs": "14"})
    assert only.retention_windows == {"logs": 14}  # the other tables keep every row
    assert cfg.load("prod", {"retention_days": "null"}).retention_windows == {}  # null on the command line
    assert {"retention_days", "retention.logs", "retention.exp_histogram"} <= set(cfg.setting_keys())


RULE = "an integer from 1 to 36500, or null"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("retention_days", "0", f"retention_days=0 is out of range: must be {RULE}"),
        ("retention_days", "36501", "retention_days=36501 is out of range"),
        ("retention_days", "thirty", f"retention_days='thirty' is invalid: must be {RULE}"),
        ("retention.traces", "-1", "retention.traces=-1 is out of range"),
    ],
)
def test_bad_retention_values_are_one_line_errors(key, value, words):
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cfg.load("prod", {key: value})


def test_a_dropped_days_bytes_are_reclaimed_within_days_of_its_run():
    assert reclaim_days(cfg.load("prod")) == 5 + 3 + 10  # 120 h of snapshots, 3 unreferenced, 10 noncurrent
    assert reclaim_days(cfg.load("prod", {"tables.snapshot_max_age_hours": "25"})) == 2 + 13


def test_a_run_without_any_window_exits_2_before_any_aws_call(tmp_path: Path):
    cmd = [*DOIT, "--db-file", str(tmp_path / "deps.json"), "retention", "env=prod"]
    with recording_endpoint() as rec:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=no_credentials_env(rec.url), capture_output=True, text=True, timeout=120
        )
        assert rec.connections == []
    assert proc.returncode == 2, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert line.startswith("error: env prod keeps every row: retention_days and retention.SIGNAL are null")
