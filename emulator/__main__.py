"""``python -m emulator [--port P] [--data-dir D] [--lenient-timestamps] [--allow-host NAME]...``: the
local AWS, in the foreground (every service of emulator/app.py)."""

from __future__ import annotations

import argparse
import logging
import sys

from emulator.admin import options
from emulator.app import EmulatorServer
from emulator.core import state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument(
        "--port", type=int, default=state.DEFAULT_PORT, help="port on 127.0.0.1 (0: any free)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="wiped on start (default: .emulator/data of this checkout, .emulator/data-PORT on another port)",
    )
    parser.add_argument(
        "--lenient-timestamps",
        action="store_true",
        help="Iceberg timestamp columns also accept ISO-8601 strings (for older clients; AWS documents "
        "only integer epoch microseconds, the default refuses anything else to the error bucket)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header names NAME (repeatable); by default only loopback "
        "names (127.0.0.1, localhost, ::1) are answered, so no other site can reach it by DNS rebinding",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: must be between 0 and 65535")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options.set_startup({"lenient_timestamps": bool(args.lenient_timestamps)})
    data_dir = args.data_dir or state.default_data_dir(args.port)
    server = EmulatorServer(port=args.port, data_dir=data_dir, allowed_hosts=args.allow_host)
    print(
        f"emulator: serving on 127.0.0.1:{args.port} for checkout {state.CHECKOUT}, "
        f"data dir {server.data_dir}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
