"""The CloudFormation template and the Lake Formation role documents.

The templates of LINT_CASES (each signal alone and all signals, in both shipped envs, with each ingest
mode and none) and of the alarm variants are linted by cfn-lint (errors, warnings and informational:
nothing allowed) and scanned by checkov (one run over all of them); their IAM policy documents go through
parliament (test_template_iam.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
import yaml

from lake.signals import ALL_SIGNALS
from tests.lint import tools
from tests.unit.tasks.template.rendered import (
    ALARM_VARIANTS,
    LINT_CASES,
    _alarm_variant,
    _doc,
    _lint,
    _lint_case,
    _rendered,
)

ALLOWED_CHECKOV_SKIPS = 3


# -- checkov (first: the longest test, so xdist starts it right away) ----------------------------------


def _checkov_skips(doc: dict[str, Any]) -> dict[str, str]:
    skips = {}
    for res in doc["Resources"].values():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[skip["id"]] = skip.get("comment", "")
    return skips


def test_checkov_reports_no_failed_check(tmp_path):
    out = tmp_path / "templates"
    out.mkdir()
    resources = 0
    for name in LINT_CASES:
        text = _lint_case(name)[1]
        (out / f"{name}.yaml").write_text(text)
        resources += len(yaml.safe_load(text)["Resources"])
    for variant in ALARM_VARIANTS:  # the alarms' topic (alarms.email) and actions (alarms.topic_arn)
        text = _alarm_variant(variant)[1]
        (out / f"alarms-{variant}.yaml").write_text(text)
        resources += len(yaml.safe_load(text)["Resources"])
    checkov = tools.checkov()
    proc = subprocess.run(
        [str(checkov), "-d", str(out), "-o", "json", "--framework", "cloudformation", "--skip-download"],
        capture_output=True,
        text=True,
        # offline (no guideline download); serial: xdist already keeps the other core busy with cfn-lint
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_PARALLELIZATION_TYPE": "none"},
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stdout)
    assert isinstance(report, dict), report  # one framework -> one report
    summary = report["summary"]
    failed = [(f["check_id"], f["resource"], f["file_path"]) for f in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0
    assert summary["resource_count"] == resources  # every template and resource was read
    assert summary["passed"] > 0
    assert proc.returncode == 0, proc.stderr[-2000:]
    skipped = {f["check_id"] for f in report["results"]["skipped_checks"]}
    declared = _checkov_skips(_doc("prod", ALL_SIGNALS))
    for variant in ALARM_VARIANTS:  # one renders without ingest: its two documented skips
        declared.update(_checkov_skips(yaml.safe_load(_alarm_variant(variant)[1])))
    assert skipped <= set(declared)


def test_checkov_skips_are_few_and_explained():
    skips = _checkov_skips(_doc("prod", ALL_SIGNALS))
    assert 0 < len(skips) <= ALLOWED_CHECKOV_SKIPS
    for check_id, comment in skips.items():
        assert len(comment) > 40, f"{check_id} skip needs a written reason"


# -- cfn-lint ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LINT_CASES)
def test_cfn_lint_reports_nothing(name):
    assert _lint(_lint_case(name)[1]) == []


def test_cfn_lint_catches_a_broken_template():
    """The lint harness is live: a wrong property name must be reported."""
    broken = _rendered("prod", ("logs",)).replace("RetentionInDays:", "RetentionInDay:")
    assert any("E3002" in m or "RetentionInDay" in m for m in _lint(broken))
