"""`doit plan` names each stack property that changes and the replacements it causes, reads only, and
exits by the table with detailed=1."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tasks import template
from tasks.errors import EXIT_CHANGES, EXIT_OK
from tests.deploy_helpers import deploy, doit, mutating, run

NO_INGEST = {"ingest.enabled": "false"}


def _stack_changes(results: list[Any]) -> dict[str, Any]:
    [stack] = [r for r in results if r.name == "stack"]
    return {c.resource: c for c in stack.diff.changes}


def test_plan_names_the_properties_and_the_replacements_they_cause_with_no_write(emulator, tmp_path):
    deploy(emulator, NO_INGEST)
    emulator.reset_calls()
    changed = {**NO_INGEST, "namespace": "otel"}
    changes = _stack_changes(run(emulator, changed).plan())
    assert mutating(emulator) == {}
    namespace = changes["AWS::S3Tables::Namespace Namespace"]
    assert (namespace.action, namespace.fields) == (
        "replace",
        {"Namespace.Properties.Namespace": ("default", "otel")},
    )
    assert namespace.replaces == ("Namespace.Properties.Namespace",)
    assert namespace.reason == (
        "CloudFormation replaces it: Namespace is create-only; the old one is kept "
        "(UpdateReplacePolicy Retain)"
    )
    # The stack keeps the old namespace, and its tables with it (UpdateReplacePolicy): nothing is lost.
    assert (namespace.loses, namespace.consent) == ("", "")
    stack = changes["cloudformation stack otlp2pipeline-local"]
    assert stack.action == "update" and stack.reason.startswith("change set: ")
    assert stack.fields["Outputs.Namespace.Value"] == ("default", "otel")
    assert not [label for label in changes if label.startswith("AWS::S3Tables::Table ")]  # not the stack's

    # The same through the CLI, as text and as JSON, and detailed=1 exits 5; still no write.
    text = doit(emulator, tmp_path, "plan", "env=local", "namespace=otel", "ingest.enabled=false")
    assert text.returncode == EXIT_OK, text.stdout + text.stderr
    lines = text.stdout.splitlines()
    head = (
        "stack: replace AWS::S3Tables::Namespace Namespace (CloudFormation replaces it: Namespace is "
        "create-only; the old one is kept (UpdateReplacePolicy Retain))"
    )
    assert head in lines, text.stdout
    assert (
        lines[lines.index(head) + 1]
        == "      Namespace.Properties.Namespace: default -> otel (forces replacement)"
    )
    as_json = doit(
        emulator, tmp_path, "plan", "env=local", "namespace=otel", "ingest.enabled=false", "format=json"
    )
    doc = json.loads(as_json.stdout)
    [step] = [s for s in doc["steps"] if s["step"] == "stack"]
    [entry] = [c for c in step["changes"] if c["resource"] == "AWS::S3Tables::Namespace Namespace"]
    assert entry["replaces"] == ["Namespace.Properties.Namespace"] and "consent" not in entry
    assert entry["fields"]["Namespace.Properties.Namespace"] == {"observed": "default", "desired": "otel"}
    detailed = doit(
        emulator, tmp_path, "plan", "env=local", "namespace=otel", "ingest.enabled=false", "detailed=1"
    )
    assert detailed.returncode == EXIT_CHANGES, detailed.stdout + detailed.stderr
    converged = doit(emulator, tmp_path, "plan", "env=local", "ingest.enabled=false", "detailed=1")
    assert converged.returncode == EXIT_OK, converged.stdout + converged.stderr
    assert converged.stdout.strip().splitlines()[-1] == "no changes"
    assert mutating(emulator) == {}


def test_plan_reads_what_a_bucket_it_would_replace_holds_and_only_then(emulator, monkeypatch):
    deploy(emulator, NO_INGEST)
    cfg = run(emulator, NO_INGEST).config
    bucket = cfg.error_bucket_name("123456789012")
    emulator.client("s3").put_object(Bucket=bucket, Key="errors/logs/x", Body=b"{}")

    emulator.reset_calls()
    assert all(r.diff is not None and r.diff.empty for r in run(emulator, NO_INGEST).plan())
    assert emulator.call_count("s3", "ListObjectVersions") == 0  # converged: nothing read for it
    assert emulator.call_count("cloudformation", "DescribeStackResource") == 0

    parsed = template.parsed

    def renamed(config: Any) -> dict[str, Any]:
        doc = copy.deepcopy(parsed(config))
        doc["Resources"]["ErrorBucket"]["Properties"]["BucketName"] = f"{bucket}-2"
        return doc

    monkeypatch.setattr(template, "parsed", renamed)
    emulator.reset_calls()
    changes = _stack_changes(run(emulator, NO_INGEST).plan())
    assert mutating(emulator) == {}
    assert emulator.call_count("s3", "ListObjectVersions") == 1
    assert emulator.call_count("cloudformation", "DescribeStackResource") == 1
    errors = changes["AWS::S3::Bucket ErrorBucket"]
    assert errors.action == "replace" and errors.replaces == ("ErrorBucket.Properties.BucketName",)
    assert (errors.loses, errors.consent) == (f"bucket {bucket}: 1 object version(s)", "error_bucket")
    policy = changes["AWS::S3::BucketPolicy ErrorBucketPolicy"]
    assert policy.action == "replace" and "Bucket (create-only) refers to ErrorBucket" in policy.reason
    assert not policy.loses


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_plan_of_a_fresh_env_is_changes_for_detailed_exit_codes(emulator, tmp_path, fmt):
    out = doit(emulator, tmp_path, "plan", "env=local", "ingest.enabled=false", f"format={fmt}", "detailed=1")
    assert out.returncode == EXIT_CHANGES, out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1:] in ([], [".  plan"]), out.stderr  # no error line
    assert mutating(emulator) == {}
