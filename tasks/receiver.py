"""The local receiver of an env: its Config made into ingest/'s Receiver, sending through the env's streams,
and served by ingest/server.py.

`python -m tasks.receiver --env ENV [--port P] [--host H] [--set key=value]` runs it in the foreground
(`doit ingest` starts it in the background). It writes one line per request to stdout, and stops on SIGINT
or SIGTERM after the requests in progress. Here, not in ingest/, because reading an env's config and its
AWS session is the tool's: ingest/ imports only lake/.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import sys
from typing import Any

from ingest.app import Receiver, Settings
from ingest.deliver import FirehoseDelivery
from ingest.server import DEFAULT_HOST, ReceiverServer
from tasks.aws import Clients
from tasks.config import Config, load
from tasks.errors import UserError

TOKEN_VAR = "OTLP2PIPELINE_INGEST_TOKEN"  # a generated token reaches the receiver this way, not argv
MIB = 1024 * 1024
M_ARENA_MAX = -8  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's default, held fixed


def build(config: Config, token: str | None = None) -> tuple[Receiver, FirehoseDelivery]:
    """A Receiver for an env's config, sending through its Firehose streams (env local: the emulator is
    started when it is not running)."""
    clients = Clients(config)
    delivery = FirehoseDelivery(clients.session, config.endpoint, config.stream_name)
    settings = Settings(
        signals=tuple(config.signals),
        max_body_bytes=config.ingest.max_body_mb * MIB,
        token=token or os.environ.get(TOKEN_VAR) or config.ingest.token,
        max_rows=config.ingest.max_rows,
        deadline_s=float(config.ingest.sender_deadline_seconds),
    )
    return Receiver(settings, delivery), delivery


def bounded_heap() -> None:
    """Keep the resident size of a busy receiver near what its requests hold, before any thread starts
    (bench/ingest.py: the concurrency figure). glibc gives threads arenas of their own (up to 8 per core),
    and memory one arena freed is not reused by another: two arenas. And glibc raises its mmap threshold
    each time a large block is freed, so that the next request's bodies land in the heap and their space
    stays resident after they go: the threshold held at its default keeps a body mapped and unmapped.
    Elsewhere (musl, macOS): nothing."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.receiver", description=__doc__)
    parser.add_argument("--env", default="local", help="the env whose streams receive the rows")
    parser.add_argument("--port", type=int, default=None, help="default: the env's ingest.port")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as on doit's command line"
    )
    args = parser.parse_args(argv)
    bounded_heap()

    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            sys.stderr.write(f"error: --set {item!r} is invalid: must be KEY=VALUE\n")
            return 2
        overrides[key] = value
    try:
        config = load(args.env, overrides)
        receiver, delivery = build(config)
    except UserError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    port = args.port or config.ingest.port
    try:
        server = ReceiverServer(receiver, args.host, port)
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on {args.host}:{port}: {exc.strerror}\n")
        delivery.close()
        return 1

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # uvicorn handles SIGINT/SIGTERM while it serves and raises the signal again once it has stopped.
    signal.signal(signal.SIGTERM, _stop)
    sys.stdout.write(f"receiver for env {config.env} listening on {server.endpoint}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        delivery.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
