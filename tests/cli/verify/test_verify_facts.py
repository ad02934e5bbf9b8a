"""verify/'s probes of the facts AWS's documentation leaves open: on the local AWS every one answers the side
the tool chose, one that differs fails naming what was seen, they leave nothing behind, and
docs/not-yet-confirmed.md names each probe."""

from __future__ import annotations

from typing import Any

from tasks import config as config_mod
from tests.cli import verify_helpers as vh
from verify.facts import FACTS


def test_every_fact_is_confirmed_on_the_local_aws_and_nothing_is_left_behind(emulator):
    cfg = vh.deploy(emulator)
    proc, _ = vh.run_verify(emulator, "-k", "test_fact", "-rs", "--probe-refusals")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.split("facts not yet confirmed by AWS's documentation", 1)[1]
    for fact in FACTS:
        line = next(ln for ln in summary.splitlines() if ln.startswith(f"{fact.id}: "))
        outcome = line.split(": ", 2)[1]
        # A stack of one page of events cannot show the page size: the only fact an env may not tell.
        expected = ("confirmed", "undetermined") if fact.id == "stack-events-page-size" else ("confirmed",)
        assert outcome in expected, line
    functions = emulator.client("lambda").list_functions()["Functions"]
    assert [f["FunctionName"] for f in functions] == [cfg.ingest_function_name]  # probe functions deleted
    bucket = f"arn:aws:s3tables:{cfg.region}:{emulator.account_id}:bucket/{cfg.table_bucket_name}"
    tags = emulator.client("s3tables").list_tags_for_resource(resourceArn=bucket)["tags"]
    assert tags == cfg.all_tags


def test_a_fact_that_differs_fails_saying_what_was_seen(emulator):
    vh.deploy(emulator)
    emulator.set_faults({"omit_fields": {"firehose.AppendOnly": True}})  # as AWS may answer
    proc, _ = vh.run_verify(emulator, "-k", "append-only-described")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "append-only-described: differs: DescribeDeliveryStream leaves AppendOnly out for" in proc.stdout


def _findings(proc: Any) -> dict[str, tuple[str, str]]:
    """fact id -> (outcome, what was seen), from the report's summary."""
    summary = proc.stdout.split("facts not yet confirmed by AWS's documentation", 1)[1]
    found = {}
    for line in summary.splitlines():
        fact, _, rest = line.partition(": ")
        outcome, _, detail = rest.partition(": ")
        if outcome in ("confirmed", "differs", "undetermined"):
            found[fact] = (outcome, detail)
    return found


def test_the_probes_that_send_refused_records_run_only_when_asked(emulator, tmp_path, monkeypatch):
    """A refused record fires the stream's records-to-error-bucket alarm: status is unhealthy for a minute
    and the alarm notifies (here it mails someone). Without --probe-refusals the two probes that send one do
    not run, and say what the alarm would do and how to run them; the error bucket gets nothing. With it,
    they run."""
    root = vh.config_dir(
        tmp_path, "signals: [logs]\ningest:\n  enabled: false\nalarms:\n  email: ops@example.com\n"
    )
    monkeypatch.setenv(config_mod.CONFIG_DIR_VAR, str(root))
    cfg = vh.deploy(emulator)
    refused = ("unknown-record-key-refused", "string-timestamp-refused")
    selected = "unknown-record-key or string-timestamp or absent-optional-column or trust-external-id"
    bucket = emulator.client("cloudformation").describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    errors = next(o["OutputValue"] for o in bucket["Outputs"] if o["OutputKey"] == "ErrorBucketName")
    s3 = emulator.client("s3")

    proc = vh.verify_in(emulator, root, "verify/test_facts.py", "-k", selected, "-rs", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = _findings(proc)
    alarm = cfg.alarm_name("logs", "records-to-error-bucket")
    for fact in refused:
        outcome, detail = found[fact]
        assert outcome == "undetermined", (fact, detail)
        assert f"put alarm {alarm} in ALARM for a minute (`doit status` unhealthy; " in detail
        assert "it notifies email ops@example.com" in detail
        assert "`pytest verify/ --env local --probe-refusals`" in detail
    assert found["absent-optional-column-is-null"][0] == "confirmed"
    assert found["trust-external-id-delivers"][0] == "confirmed"
    assert s3.list_objects_v2(Bucket=errors).get("KeyCount", 0) == 0  # nothing refused was sent

    proc = vh.verify_in(
        emulator, root, "verify/test_facts.py", "-k", selected, "-rs", "-q", "--probe-refusals"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = _findings(proc)
    assert {fact: found[fact][0] for fact in refused} == dict.fromkeys(refused, "confirmed")
    assert s3.list_objects_v2(Bucket=errors).get("KeyCount", 0) >= 1
