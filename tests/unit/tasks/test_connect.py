"""doit connect's pure parts (tasks/connect.py): the SDK variables and the Collector block."""

from __future__ import annotations

import pytest
import yaml
from opentelemetry.util.re import parse_env_headers

from tasks import connect
from tasks.config import load
from tests.cli.connect_helpers import TOKEN


def test_sdk_headers_value_is_percent_encoded_and_round_trips():
    conn = connect.Connection("local", "us-east-1", "https://x.lambda-url.us-east-1.on.aws/", "f", "token",
                              "arn", TOKEN)  # fmt: skip
    env = connect.sdk_env(conn, show=True)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://x.lambda-url.us-east-1.on.aws"  # SDK adds /v1/...
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert " " not in env["OTEL_EXPORTER_OTLP_HEADERS"]
    assert parse_env_headers(env["OTEL_EXPORTER_OTLP_HEADERS"]) == {"authorization": f"Bearer {TOKEN}"}
    masked = connect.sdk_env(conn, show=False)["OTEL_EXPORTER_OTLP_HEADERS"]
    assert TOKEN not in masked and connect.MASK in masked


@pytest.mark.parametrize("max_body_mb", [1, 6, 64])
def test_collector_batches_stay_far_below_the_urls_event_limit(max_body_mb):
    """The worst case of a batch: protobuf that gzip cannot shrink (deflate adds at most 5 bytes per
    16 KiB block plus 18), base64 in the event (4/3), with 64 KiB of headers and event fields around it."""
    from lake.lambda_facts import SYNC_PAYLOAD_LIMIT

    cfg = load("local", {"ingest.max_body_mb": str(max_body_mb)})
    conn = connect.from_outputs(cfg, {"IngestEndpoint": "https://u.lambda-url.us-east-1.on.aws/"})
    batch = connect.collector(conn, show=False)["exporters"]["otlphttp/otlp2pipeline-local"]["sending_queue"]
    largest = batch["batch"]["max_size"]
    assert batch["batch"]["sizer"] == "bytes" and batch["batch"]["min_size"] <= largest
    gzip_worst = largest + 5 * (largest // 16384 + 1) + 18
    event = 4 * ((gzip_worst + 2) // 3) + 64 * 1024
    assert event < SYNC_PAYLOAD_LIMIT / 2  # well under, not just under
    assert largest <= max_body_mb * 1024 * 1024  # and the receiver takes every batch whole


def test_text_collector_block_parses_as_yaml():
    conn = connect.Connection(
        "local", "us-east-1", "http://127.0.0.1:1/_lambda-url/x/", "f", "token", "a", TOKEN
    )
    text = connect.text(conn, show=True)
    block = text.split("# OpenTelemetry Collector (add the exporter to your pipelines)\n", 1)[1]
    doc = yaml.safe_load(block)
    assert doc == connect.collector(conn, show=True)
    assert doc["exporters"]["otlphttp/otlp2pipeline-local"]["headers"] == {"Authorization": f"Bearer {TOKEN}"}
