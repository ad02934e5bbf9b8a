"""`python -m ingest --env ENV [--port P] [--host H]`: the receiver in the foreground (uvicorn, h11).

It writes one line per request to stdout, and stops on SIGINT or SIGTERM after the requests in progress.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import signal
import sys
from typing import Any

from ingest.server import DEFAULT_HOST, ReceiverServer, build

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
MALLOC_ARENAS = 2


def fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at two, before any thread starts. glibc gives threads arenas of their own
    (up to 8 per core), and memory one arena freed is not reused by another, so the resident size of a
    server whose worker threads take turns on the GIL grows with their number (bench/ingest.py: the
    concurrency figure, about 6x without the cap and 4x with it). Elsewhere (musl, macOS): nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("--env", default="local", help="the env whose streams receive the rows")
    parser.add_argument("--port", type=int, default=None, help="default: the env's ingest.port")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as on doit's command line"
    )
    args = parser.parse_args(argv)
    fewer_malloc_arenas()

    from tasks.config import load
    from tasks.errors import UserError

    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: --set {item!r} is invalid: must be KEY=VALUE", file=sys.stderr)
            return 2
        overrides[key] = value
    try:
        config = load(args.env, overrides)
        receiver, delivery = build(config)  # env=local: starts the emulator when it is not running
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    port = args.port or config.ingest.port
    try:
        server = ReceiverServer(receiver, args.host, port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{port}: {exc.strerror}", file=sys.stderr)
        delivery.close()
        return 1

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # uvicorn handles SIGINT/SIGTERM while it serves and raises the signal again once it has stopped.
    signal.signal(signal.SIGTERM, _stop)
    print(f"receiver for env {config.env} listening on {server.endpoint}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        delivery.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
