"""Absent is not false (aws-facts.md): a stream whose description lacks AppendOnly is "unknown", and kept.

The emulator's ``omit_fields`` fault drops AppendOnly from DescribeDeliveryStream, as AWS may.
"""

from __future__ import annotations

import requests

from tasks.steps import streams
from tests.deploy_helpers import deploy, doit, mutating, run

SIGNALS = ("logs", "traces", "sum", "gauge")
OMIT = {"omit_fields": {"firehose.AppendOnly": True}}


def test_fault_drops_append_only_from_describe_and_rejects_unknown_fields(emulator):
    deploy(emulator)
    fh = emulator.client("firehose")
    name = "otlp2pipeline-local-logs"
    ice = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["Destinations"][0]
    assert ice["IcebergDestinationDescription"]["AppendOnly"] is True

    emulator.set_faults(OMIT)
    ice = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["Destinations"][0]
    assert "AppendOnly" not in ice["IcebergDestinationDescription"]
    assert ice["IcebergDestinationDescription"]["RoleARN"]  # only that field goes

    for bad in ({"firehose.NoSuchField": True}, {"firehose.AppendOnly": "yes"}):
        resp = requests.post(f"{emulator.endpoint}/_emulator/faults", json={"omit_fields": bad}, timeout=10)
        assert resp.status_code == 400, bad


def test_no_op_deploy_with_append_only_omitted_writes_nothing_and_deletes_nothing(emulator, tmp_path):
    deploy(emulator)
    emulator.set_faults(OMIT)
    emulator.reset_calls()

    out = doit(emulator, tmp_path, "deploy", "env=local")
    assert out.returncode == 0, out.stdout + out.stderr
    assert mutating(emulator) == {}
    assert "0 writes" in out.stdout.strip().splitlines()[-1]
    for s in SIGNALS:
        assert f"stream_{s}: unchanged" in out.stdout
        assert f"stream_{s}: replaced" not in out.stdout
        assert f"stream otlp2pipeline-local-{s}: AppendOnly unknown" in out.stdout

    status = doit(emulator, tmp_path, "status", "env=local")
    assert status.returncode == 0, status.stdout + status.stderr
    for s in SIGNALS:
        assert f"stream otlp2pipeline-local-{s}: ACTIVE, AppendOnly=unknown" in status.stdout

    plan = doit(emulator, tmp_path, "plan", "env=local")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout.strip().splitlines()[-1] == "no changes"
    assert plan.stdout.count("AppendOnly unknown") == len(SIGNALS)
    assert mutating(emulator) == {}


def test_append_only_false_is_still_turned_on_while_unknown_is_kept(emulator):
    """Only an explicit false is changed (in place); with the field omitted the same stream is left alone."""
    r = deploy(emulator)
    fh = emulator.client("firehose")
    name = "otlp2pipeline-local-logs"
    fh.delete_delivery_stream(DeliveryStreamName=name)
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        IcebergDestinationConfiguration={**streams.destination(r.ctx, "logs"), "AppendOnly": False},
        Tags=[{"Key": k, "Value": v} for k, v in r.ctx.config.all_tags.items()],  # as the tool tags it
    )
    emulator.set_faults(OMIT)
    plan = {p.name: p.diff for p in run(emulator).plan()}
    assert plan["stream_logs"].changes == []
    assert plan["stream_logs"].notes == [streams.unknown_note(name)]

    emulator.clear_faults()
    plan = {p.name: p.diff for p in run(emulator).plan()}
    (change,) = plan["stream_logs"].changes
    assert change.action == "update" and change.fields["AppendOnly"] == (False, True)
