"""Shared by tests/cli/ingest/test_ingest_*.py: a deployed env with a receiver in front of it, and the
OpenTelemetry SDK pointed at that receiver. Rows are read back from the Iceberg tables with pyiceberg."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from ingest.server import ReceiverServer
from tasks.config import Config, load
from tasks.receiver import build
from tasks.runner import Run
from tests.emulator.streams import ACCOUNT, REGION, flush_until_quiet

ALL = "logs,traces,sum,gauge,histogram,exp_histogram"
TOKEN = "test-token-0123456789abcdef"


@dataclass
class Ingest:
    emu: Any
    config: Config
    server: ReceiverServer
    log: io.StringIO

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def post(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/x-protobuf",
        auth: bool = True,
        **headers: str,
    ) -> tuple[int, Message, bytes]:
        """A raw OTLP/HTTP request (urllib), for what no SDK would send."""
        hdrs = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
        if auth and self.config.ingest.token and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {self.config.ingest.token}"
        req = urllib.request.Request(self.endpoint + path, data=body, method="POST", headers=hdrs)
        return _send(req)

    def request(self, method: str, path: str) -> tuple[int, Message, bytes]:
        return _send(urllib.request.Request(self.endpoint + path, method=method))

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.endpoint + "/_ingest/health", timeout=10) as resp:
            return dict(json.loads(resp.read()))

    def rows(self, signal: str) -> list[dict[str, Any]]:
        """Every row of the signal's table, after the emulator delivered everything buffered."""
        from pyiceberg.table import StaticTable

        flush_until_quiet(self.emu)
        arn = f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/{self.config.table_bucket_name}"
        loc = self.emu.client("s3tables").get_table_metadata_location(
            tableBucketARN=arn, namespace=self.config.namespace, name=signal
        )["metadataLocation"]
        return list(StaticTable.from_metadata(loc).scan().to_arrow().to_pylist())


def _send(req: urllib.request.Request) -> tuple[int, Message, bytes]:
    """Status, headers (looked up case-insensitively, as HTTP names are) and body."""
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def micros(value: datetime) -> int:
    """An Iceberg timestamp (naive UTC datetime from pyiceberg) as epoch microseconds."""
    aware = value.replace(tzinfo=UTC)
    delta = aware - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def deploy(emu: Any, **overrides: str) -> Config:
    cfg = load("local", {"endpoint": emu.endpoint, "signals": ALL, **overrides})
    results = Run(cfg).deploy_sequential()
    failed = [r for r in results if r.error]
    assert not failed, [f"{r.name}: {r.error}" for r in failed]
    return cfg


@contextmanager
def receiver(emu: Any, cfg: Config) -> Iterator[Ingest]:
    rec, delivery = build(cfg)
    log = io.StringIO()
    server = ReceiverServer(rec, "127.0.0.1", 0, log).start()
    try:
        yield Ingest(emu, cfg, server, log)
    finally:
        server.stop()
        delivery.close()


def hex_of_b64(value: str) -> str:
    return base64.b64decode(value).hex()


def otlp_json(message: Any) -> bytes:
    """An SDK's protobuf request as OTLP/JSON: lowerCamelCase, integer enums, ids in hex (not base64)."""
    from google.protobuf import json_format

    doc = json_format.MessageToDict(message, use_integers_for_enums=True)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                    node[k] = hex_of_b64(v)
                else:
                    fix(v)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(doc)
    return json.dumps(doc).encode()
