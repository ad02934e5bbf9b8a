"""A stream re-created out of band without AppendOnly is repaired in place: UpdateDestination turns AppendOnly
on (public reports say AWS takes false -> true; aws-facts.md), the same stream keeps what it buffers, and only
if AWS refuses that (by its error code) is the stream deleted and re-created.

The streams buffer for 900 s here, so records sent before the deploy are still in the stream while it is
repaired; they land when the emulator flushes it afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyiceberg.table import StaticTable

from tasks.errors import StepFailed
from tasks.records import encode, make_records
from tasks.runner import plan_text
from tasks.steps import append_only
from tests.deploy_helpers import deploy, mutating, run
from tests.emulator.streams import iceberg_config_of, wait_stream_gone

SETTINGS = {"signals": "logs", "ingest.enabled": "false", "firehose.buffering_interval_seconds": "900"}
NAME = "otlp2pipeline-local-logs"
RUN_ID = "run-append-only"
COUNT = 40


def _describe(emu: Any) -> dict[str, Any]:
    out = emu.client("firehose").describe_delivery_stream(DeliveryStreamName=NAME)
    return dict(out["DeliveryStreamDescription"])


def _append_only(emu: Any) -> bool:
    return bool(_describe(emu)["Destinations"][0]["IcebergDestinationDescription"]["AppendOnly"])


def _rows(emu: Any, cfg: Any) -> list[str]:
    """The run's rows in the logs table, as committed so far (no flush)."""
    arn = f"arn:aws:s3tables:us-east-1:123456789012:bucket/{cfg.table_bucket_name}"
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=arn, namespace=cfg.namespace, name="logs"
    )["metadataLocation"]
    found = StaticTable.from_metadata(loc).scan().to_arrow().to_pylist()
    return sorted(
        str(r["service_instance_id"]) for r in found if str(r["service_instance_id"]).startswith(RUN_ID)
    )


def _recreated_without_append_only(emu: Any, **changes: Any) -> Any:
    """A clean deploy, then the stream re-created out of band with AppendOnly false, then records sent."""
    cfg = deploy(emu, SETTINGS).config
    dest = {**iceberg_config_of(emu, NAME), "AppendOnly": False, **changes}
    fh = emu.client("firehose")
    fh.delete_delivery_stream(DeliveryStreamName=NAME)
    wait_stream_gone(emu, NAME)
    fh.create_delivery_stream(
        DeliveryStreamName=NAME, DeliveryStreamType="DirectPut", IcebergDestinationConfiguration=dest
    )
    records = [{"Data": encode(r)} for r in make_records("logs", RUN_ID, COUNT)]
    assert fh.put_record_batch(DeliveryStreamName=NAME, Records=records)["FailedPutCount"] == 0
    assert _rows(emu, cfg) == []  # buffered
    return cfg


def test_append_only_false_is_turned_on_in_place_and_the_buffered_records_land(emulator):
    cfg = _recreated_without_append_only(emulator)
    before = _describe(emulator)

    emulator.reset_calls()
    planned = run(emulator, SETTINGS)
    results = planned.plan()
    assert mutating(emulator) == {}
    (change,) = {r.name: r.diff for r in results}["stream_logs"].changes
    assert change.action == "update"
    # The stream re-created by hand lacks the env's tags too: plan shows them coming back.
    assert change.fields == {"AppendOnly": (False, True), "Tags": ({}, cfg.all_tags)}
    text = plan_text(planned.config, results)
    line = (
        f"stream_logs: update firehose stream {NAME} (in place: AppendOnly false -> true by "
        "UpdateDestination; replaced if AWS refuses)"
    )
    assert line in text, text

    emulator.reset_calls()
    repaired = deploy(emulator, SETTINGS)
    assert repaired.results["stream_logs"].outcome.result == "updated"
    # No DeleteDeliveryStream; the env's tags, which the stream re-created by hand lacked, put back.
    assert mutating(emulator) == {"firehose:UpdateDestination": 1, "firehose:TagDeliveryStream": 1}
    tags = emulator.client("firehose").list_tags_for_delivery_stream(DeliveryStreamName=NAME)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == cfg.all_tags
    after = _describe(emulator)
    assert (after["DeliveryStreamARN"], after["CreateTimestamp"]) == (
        before["DeliveryStreamARN"],
        before["CreateTimestamp"],
    )
    assert _append_only(emulator)
    assert _rows(emulator, cfg) == []  # still buffered by the same stream...
    assert emulator.flush()["delivered"] == COUNT
    assert _rows(emulator, cfg) == sorted(f"{RUN_ID}:{i}" for i in range(COUNT))  # ...and none lost
    emulator.reset_calls()
    deploy(emulator, SETTINGS)
    assert mutating(emulator) == {}


def _refused(emu: Any, code: str) -> None:
    """AWS's answer to the next write (the UpdateDestination), as if it would not take AppendOnly."""
    emu.set_faults({"fail_mutating_call": {"number": 1, "error_code": code, "status": 400}})


def test_a_refused_append_only_update_replaces_the_stream(emulator, capsys):
    """Refused by InvalidArgumentException: the fallback. Buffering differs too, so the update without
    AppendOnly goes first and tells the refusal was AppendOnly's; then the stream is re-created."""
    _recreated_without_append_only(emulator, BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 600})
    before = _describe(emulator)
    emulator.reset_calls()
    _refused(emulator, append_only.REFUSED[0])
    capsys.readouterr()
    repaired = deploy(emulator, SETTINGS)
    assert repaired.results["stream_logs"].outcome.result == "replaced"
    assert f"AWS refused AppendOnly in place ({append_only.REFUSED[0]}): re-creating it" in (
        capsys.readouterr().out
    )
    assert mutating(emulator) == {
        "firehose:UpdateDestination": 2,
        "firehose:DeleteDeliveryStream": 1,
        "firehose:CreateDeliveryStream": 1,
    }
    assert _describe(emulator)["CreateTimestamp"] != before["CreateTimestamp"]
    assert _append_only(emulator)
    emulator.reset_calls()
    deploy(emulator, SETTINGS)
    assert mutating(emulator) == {}


def test_another_refusal_fails_the_step_and_keeps_the_stream(emulator):
    _recreated_without_append_only(emulator)
    before = _describe(emulator)
    emulator.reset_calls()
    _refused(emulator, "AccessDeniedException")
    with pytest.raises(StepFailed) as failed:
        deploy(emulator, SETTINGS)
    assert str(failed.value).startswith("deploy:stream_logs failed") and "AccessDeniedException" in str(
        failed.value
    )
    assert mutating(emulator) == {"firehose:UpdateDestination": 1}
    assert _describe(emulator)["CreateTimestamp"] == before["CreateTimestamp"] and not _append_only(emulator)
