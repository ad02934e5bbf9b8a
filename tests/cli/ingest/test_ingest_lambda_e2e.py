"""End to end: the real OpenTelemetry SDK exports to the local Function URL of a deployed env.

Nothing between the SDK and the function is ours but the deployed zip: the local AWS runs the handler from
the zip the deploy uploaded, behind the URL the stack's `IngestEndpoint` output names. One deploy per auth
mode serves every test of that mode (module-scoped; the tests only read the env and send fresh run ids).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lake.signals import signal_of
from tasks import connect
from tasks.records import new_run_id
from tests.cli.ingest.lambda_e2e_helpers import Deployed, deployed
from tests.deploy_helpers import doit
from verify.otlp_post import post, request


@pytest.fixture(scope="module")
def token_env() -> Iterator[Deployed]:
    with deployed() as env:
        assert env.conn.auth == "token" and env.conn.token
        yield env


@pytest.fixture(scope="module")
def iam_env() -> Iterator[Deployed]:
    with deployed(**{"ingest.auth": "iam"}) as env:
        assert env.conn.auth == "iam" and env.conn.token is None
        yield env


def _resource(run_id: str) -> Resource:
    return Resource.create({"service.name": "e2e", "service.instance.id": run_id})


def _export_spans(endpoint: str, run_id: str, n: int, headers: dict[str, str] | None) -> str:
    """n finished spans of the SDK, exported in one request by its OTLP/HTTP exporter."""
    provider = TracerProvider(resource=_resource(run_id))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("e2e")
    for i in range(n):
        tracer.start_span(f"op-{i}").end()
    return str(OTLPSpanExporter(endpoint=endpoint, headers=headers).export(memory.get_finished_spans()).name)


def test_sdk_exports_every_signal_to_the_function_url_and_the_rows_land(token_env):
    env, run_id = token_env, new_run_id()
    base, headers = env.conn.base_url, {"Authorization": f"Bearer {env.conn.token}"}
    assert _export_spans(f"{base}/v1/traces", run_id, 3, headers) == "SUCCESS"

    logs = LoggerProvider(resource=_resource(run_id))
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(f"{base}/v1/logs", headers=headers))
    )
    for i in range(2):
        logs.get_logger("e2e").emit(LogRecord(body=f"line {i}"))
    logs.shutdown()

    reader = InMemoryMetricReader()
    meter = MeterProvider(resource=_resource(run_id), metric_readers=[reader]).get_meter("e2e")
    meter.create_counter("requests").add(5)
    meter.create_gauge("temperature").set(21.5)
    meter.create_histogram("latency").record(7.5)
    data = reader.get_metrics_data()
    assert data is not None
    assert OTLPMetricExporter(f"{base}/v1/metrics", headers=headers).export(data).name == "SUCCESS"

    want = {"traces": 3, "logs": 2, "sum": 1, "gauge": 1, "histogram": 1}
    got = {s: len(env.wait_rows(s, run_id, n)) for s, n in want.items()}
    assert got == want
    assert {r["span_name"] for r in env.rows("traces", run_id)} == {"op-0", "op-1", "op-2"}
    assert env.rows("gauge", run_id)[0]["value"] == 21.5


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-0123456789", "Basic dXNlcjpwYXNz"])
def test_without_the_token_401_and_nothing_is_written(token_env, auth):
    env, run_id = token_env, new_run_id()
    puts = env.puts()
    answer = post(env.conn.endpoint, "v1/logs", request("logs", run_id), authorization=auth)
    assert answer.status == 401, answer.body[:200]
    assert env.puts() == puts  # no record reached Firehose
    assert env.rows("logs", run_id) == []


def test_one_request_per_signal_lands(token_env):
    env, run_id = token_env, new_run_id()
    for signal in env.config.signals:
        path = signal_of(signal).path
        answer = post(env.conn.endpoint, path, request(signal, run_id), token=env.conn.token)
        assert answer.status == 200, (signal, answer.status, answer.body[:200])
    assert {s: len(env.wait_rows(s, run_id, 1)) for s in env.config.signals} == dict.fromkeys(
        env.config.signals, 1
    )


def test_connect_prints_a_collector_config_whose_endpoint_the_sdk_uses(token_env, tmp_path, monkeypatch):
    env, run_id = token_env, new_run_id()
    res = doit(env.emu, tmp_path, "connect", "show=1", "signals=" + ",".join(env.config.signals))
    assert res.returncode == 0, res.stderr
    block = res.stdout.split("# OpenTelemetry Collector (add the exporter to your pipelines)\n", 1)[1]
    exporter = yaml.safe_load(block)["exporters"]["otlphttp/otlp2pipeline-local"]
    assert exporter["compression"] == "gzip"
    assert _export_spans(exporter["endpoint"] + "/v1/traces", run_id, 1, exporter["headers"]) == "SUCCESS"
    assert len(env.wait_rows("traces", run_id, 1)) == 1

    # The SDK variables it printed, as a shell would export them: the exporter reads them itself.
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in res.stdout.splitlines()
        if line.startswith("export ")
    )
    assert exports["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    for key, value in exports.items():
        monkeypatch.setenv(key, value)
    second = new_run_id()
    provider = TracerProvider(resource=_resource(second))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))  # endpoint and headers from env
    provider.get_tracer("e2e").start_span("from-env").end()
    provider.shutdown()
    assert len(env.wait_rows("traces", second, 1)) == 1


def test_iam_auth_refuses_unsigned_and_lands_signed(iam_env):
    env, run_id = iam_env, new_run_id()
    puts = env.puts()
    unsigned = post(env.conn.endpoint, "v1/logs", request("logs", run_id))
    assert unsigned.status == 403
    assert env.puts() == puts and env.rows("logs", run_id) == []
    creds = env.clients.session.get_credentials()
    signed = post(env.conn.endpoint, "v1/logs", request("logs", run_id), sign=(creds, env.config.region))
    assert signed.status == 200, signed.body[:200]
    assert len(env.wait_rows("logs", run_id, 1)) == 1
    doc = yaml.safe_load(connect.collector_yaml(env.conn, show=False))
    assert doc["extensions"]["sigv4auth"] == {"region": env.config.region, "service": "lambda"}


def test_status_shows_the_function_active_with_the_local_zips_code(token_env, tmp_path):
    from tasks import package

    env = token_env
    res = doit(env.emu, tmp_path, "status", "format=json", "signals=" + ",".join(env.config.signals))
    doc = json.loads(res.stdout)
    [step] = [s for s in doc["steps"] if s["step"] == "function"]
    assert step["ok"] is True and step["changes"] == [], step
    items = {i["item"]: i["state"] for i in step["items"]}
    assert items["function"].startswith(f"{env.conn.function_name}: Active")
    artifact = package.current(env.config)
    assert artifact is not None and items["  code sha256"] == artifact.sha256
    assert items["  url"] == f"{env.conn.endpoint} (AuthType NONE)"
