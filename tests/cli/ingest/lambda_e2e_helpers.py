"""An env deployed once per test module onto its own local AWS process, with the ingest Function URL.

The tests of tests/cli/ingest/test_ingest_lambda_e2e.py only read that env (and send records with fresh
run ids), so one deploy serves them all. A separate `python -m emulator` process keeps the env out of
reach of the per-test reset of the shared in-process emulator (other modules' tests run on the same xdist
worker).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import emulator_process
from emulator.testing import EmulatorHandle
from tasks.aws import Clients
from tasks.config import Config, load
from tasks.connect import Connection, read
from tasks.polling import backoff, poll_until
from tasks.records import RUN_ID_COLUMN, new_run_id
from tasks.runner import Run
from tests.emulator.streams import flush_until_quiet
from verify.otlp_post import post, request
from verify.tables import static_table

ALL = "logs,traces,sum,gauge,histogram,exp_histogram"


@dataclass
class Deployed:
    emu: EmulatorHandle
    config: Config
    clients: Clients
    conn: Connection

    def rows(self, signal: str, run_id: str) -> list[dict[str, Any]]:
        flush_until_quiet(self.emu)
        table = static_table(self.clients, self.config, self.clients.account_id, signal)
        return list(table.scan(row_filter=f"{RUN_ID_COLUMN} = '{run_id}'").to_arrow().to_pylist())

    def wait_rows(self, signal: str, run_id: str, n: int, deadline_s: float = 60.0) -> list[dict[str, Any]]:
        """Poll the table (with backoff) until `n` rows of the run are there, or the deadline passed."""
        delays = backoff(time.monotonic() + deadline_s, first=0.05, cap=1.0)
        rows, _ = poll_until(lambda: self.rows(signal, run_id), lambda got: len(got) >= n, delays)
        return rows

    def puts(self) -> int:
        """Firehose PutRecordBatch calls this emulator has served since it started."""
        return self.emu.call_count("firehose", "PutRecordBatch")


@contextlib.contextmanager
def deployed(**overrides: str) -> Iterator[Deployed]:
    """Start a local AWS process, deploy `local` with every signal (and `overrides`) onto it."""
    with (
        tempfile.TemporaryDirectory(prefix="lambda-e2e-") as tmp,
        emulator_process(Path(tmp) / "data") as proc,
    ):
        emu = EmulatorHandle(proc.endpoint, Path(tmp) / "data")
        config = load("local", {"endpoint": emu.endpoint, "signals": ALL, **overrides})
        failed = [r for r in Run(config).deploy_sequential() if r.error]
        assert not failed, [f"{r.name}: {r.error}" for r in failed]
        clients = Clients(config)
        env = Deployed(emu, config, clients, read(config, clients))
        # The worker's cold start (unpacking the zip, importing boto3 from it) takes longer than the SDK's
        # default 10 s export timeout on a loaded machine: one request warms it, whichever test runs first.
        sign = (clients.session.get_credentials(), config.region) if env.conn.auth == "iam" else None
        warm = post(
            env.conn.endpoint, "v1/logs", request("logs", new_run_id()), token=env.conn.token, sign=sign
        )
        assert warm.status == 200, (warm.status, warm.body[:300])
        yield env
