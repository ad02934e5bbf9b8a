"""destroy and the ingest function: it, its URL and secret go with the stack; the artifacts bucket stays."""

from __future__ import annotations

from tasks.aws import Clients
from tasks.destroy import destroy
from tasks.step import Context
from tests.cli.connect_helpers import STACK, ingest_outputs_stack


def test_destroy_names_the_function_with_the_stack_and_keeps_the_artifacts_bucket(
    emulator, local_config, capsys
):
    ingest_outputs_stack(emulator)
    cfg = local_config()
    ctx = Context(cfg, Clients(cfg))
    bucket = cfg.artifacts_bucket_name(ctx.account_id)
    emulator.client("s3").create_bucket(Bucket=bucket)
    assert destroy(ctx, force=True) == 0
    out = capsys.readouterr().out
    assert (
        f"stack {STACK} (CREATE_COMPLETE), with the ingest function otlp2pipeline-local-ingest, "
        "its Function URL and token secret" in out
    )
    assert "kept: " in out and f"artifacts bucket {bucket}" in out.split("kept: ", 1)[1]
    assert emulator.client("s3").head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    stacks = emulator.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == STACK] == ["DELETE_COMPLETE"]
