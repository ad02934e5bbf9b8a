"""`pytest verify/ --env ENV` on the alarms: they exist, watch their metrics, notify the configured topic,
which CloudWatch may publish to; a changed alarm fails it by name. The env's settings come from a config
directory of the test's own (OTLP2PIPELINE_CONFIG_DIR), as a team keeps its env files."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tasks import config as config_mod
from tasks.runner import Run
from tests.cli import verify_helpers as vh

KEEP = (
    "AlarmName",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def _config_dir(tmp_path: Path, alarms: str) -> Path:
    return vh.config_dir(tmp_path, f"signals: [logs]\ningest:\n  enabled: false\nalarms:\n{alarms}")


def _verify(emu: Any, root: Path) -> subprocess.CompletedProcess[str]:
    return vh.verify_in(emu, root, "verify/test_alarms.py", "-rA", "-W", "always")


def _deploy(emu: Any, root: Path, monkeypatch: Any) -> config_mod.Config:
    monkeypatch.setenv(config_mod.CONFIG_DIR_VAR, str(root))
    cfg = config_mod.load("local", {"endpoint": emu.endpoint})
    assert not [r for r in Run(cfg).deploy_sequential() if r.error]
    return cfg


def test_verify_checks_the_alarms_and_their_email_topic(emulator, tmp_path, monkeypatch):
    root = _config_dir(tmp_path, "  email: ops@example.com\n")
    cfg = _deploy(emulator, root, monkeypatch)
    proc = _verify(emulator, root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout, proc.stdout
    assert "the email subscription of ops@example.com" in proc.stdout and "is pending" in proc.stdout

    name = cfg.alarm_name("logs", "records-to-error-bucket")
    cloudwatch = emulator.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in KEEP}, Statistic="Average")  # by hand, no actions
    proc = _verify(emulator, root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"alarm {name}: Statistic Average, expected Sum" in proc.stdout, proc.stdout
    topic = alarm["AlarmActions"][0]
    assert f"alarm {name} notifies ([], []), expected ['{topic}']" in proc.stdout, proc.stdout


def test_verify_refuses_a_topic_cloudwatch_cannot_publish_to(emulator, tmp_path, monkeypatch):
    sns = emulator.client("sns")
    topic = sns.create_topic(Name="ops", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    root = _config_dir(tmp_path, f"  topic_arn: {topic}\n")
    _deploy(emulator, root, monkeypatch)
    proc = _verify(emulator, root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout and "CloudWatch alarms cannot" in proc.stdout, proc.stdout
