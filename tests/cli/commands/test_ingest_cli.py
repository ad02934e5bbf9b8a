"""`doit ingest` deploys env=local when needed, starts the receiver in the background, prints the
exporter settings and its log; `doit status` shows it with its row count; `doit ingest_stop` stops it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tasks.receiver_ctl import STATE_DIR_VAR

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doit_ingest_deploys_starts_reports_and_stops(emulator, tmp_path):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": emulator.endpoint,
        STATE_DIR_VAR: str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }

    def doit(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "doit", "--db-file", str(tmp_path / "deps.json"), *args]
        return subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        bad = doit("ingest", "env=local", "port=99999")
        assert bad.returncode == 2 and "port='99999' is invalid" in bad.stdout + bad.stderr

        out = doit("ingest", "env=local", f"port={port}", "token=new")
        assert out.returncode == 0, out.stdout + out.stderr
        lines = out.stdout.strip().splitlines()
        assert lines[-1] == f"endpoint: {endpoint}"
        assert "env local is not deployed" in out.stdout  # it deployed the env first
        assert f"export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}" in lines
        found = re.search(
            r"^export OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20(\S+)$", out.stdout, re.M
        )
        assert found, out.stdout
        token = found.group(1)
        assert str(tmp_path / "ingest.log") in out.stdout

        again = doit("ingest", "env=local", f"port={port}")
        assert again.returncode == 0 and "receiver already running" in again.stdout
        assert again.stdout.strip().splitlines()[-1] == f"endpoint: {endpoint}"
        assert f"Bearer%20{token}" in again.stdout

        provider = TracerProvider()
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.get_tracer("cli").start_span("through-doit-ingest").end()
        spans = memory.get_finished_spans()
        anonymous = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=10)
        assert anonymous.export(spans).name == "FAILURE"  # 401: not retried, not delivered
        exporter = OTLPSpanExporter(
            endpoint=f"{endpoint}/v1/traces", headers={"Authorization": f"Bearer {token}"}
        )
        assert exporter.export(spans).name == "SUCCESS"

        status = doit("status", "env=local")
        assert f"receiver: running on {endpoint}" in status.stdout, status.stdout + status.stderr
        assert "1 rows handed on since" in status.stdout
        log = (tmp_path / "ingest.log").read_text()
        assert re.search(r"POST /v1/traces format=protobuf rows=traces=1 refused=0 status=200 \d+ms", log), (
            log
        )
        assert "status=401" in log
        assert token not in log
        assert (tmp_path / "ingest.log").stat().st_mode & 0o777 == 0o600
    finally:
        stopped = doit("ingest_stop")
    assert stopped.returncode == 0 and "receiver stopped" in stopped.stdout
    after = doit("status", "env=local")
    assert "receiver: not running" in after.stdout
