"""In-process deploy / destroy / status that report failures as the CLI would, the injected failure, row
counting by run id, and out-of-band updates of a stream (plain boto3, as a person or another tool would)."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tasks.aws import is_read
from tasks.config import Config
from tasks.errors import describe
from tasks.step import Options
from tests.reliability.canon import ACCOUNT

# The injected non-retryable failure. The issue suggests AccessDeniedException; the tool deliberately
# retries that code on RegisterResource right after creating the LF role (IAM propagation,
# tasks/steps/lf_resource.py), where a one-shot fault is then absorbed instead of failing the run. IAM's
# and S3's "AccessDenied" (403) means the same thing and no code path retries it.
FAIL_CODE = "AccessDenied"
FAIL_STATUS = 403


# -- running the tool in-process ------------------------------------------------------------------------


@dataclass
class Attempt:
    """One in-process deploy or destroy: exit code and first error line as the CLI would print them."""

    code: int
    message: str = ""
    output: str = ""
    writes: list[tuple[str, str]] = field(default_factory=list)  # (step, operation) of each write sent
    calls: int = 0


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield buf


def deploy(cfg: Config, options: Options | None = None, capture: bool = True) -> Attempt:
    """`doit deploy` without doit: the runner's uptodate + apply per step, in dependency order.

    A failing step stops the run, as doit does; the message is the one `doit deploy` prints. Pass
    capture=False when deploys run on threads (redirecting sys.stdout is process-wide).
    """
    from tasks.runner import Run

    current: list[str] = ["-"]
    writes: list[tuple[str, str]] = []
    lock = threading.Lock()
    with _captured() if capture else contextlib.nullcontext(io.StringIO()) as out:
        try:
            run = Run(cfg, options)
        except Exception as exc:
            message, code = describe(exc)
            return Attempt(code, message, out.getvalue())

        def on_send(**kwargs: Any) -> None:
            _, _, rest = str(kwargs.get("event_name", "")).partition(".")
            op = rest.partition(".")[2]
            if not is_read(op):
                with lock:
                    writes.append((current[0], op))

        run.ctx.clients.session.events.register("before-send", on_send)
        try:
            run.check()  # deploy:check, before every step
        except Exception as exc:
            message, code = describe(exc)
            return Attempt(code or 1, message, out.getvalue(), writes, run.counter.total)
        for name, step in run.steps.items():
            if not step.deploys:
                continue
            current[0] = name
            try:
                if not run.uptodate(name):
                    run.apply(name)
            except Exception as exc:
                message, code = describe(exc)
                if not message.startswith(f"deploy:{name}"):
                    message = f"deploy:{name} failed: {message}"
                return Attempt(code or 1, message, out.getvalue(), writes, run.counter.total)
        return Attempt(0, "", out.getvalue(), writes, run.counter.total)


def destroy(cfg: Config) -> Attempt:
    """`doit destroy force=1` without doit."""
    from tasks.aws import Clients
    from tasks.destroy import destroy as run_destroy
    from tasks.step import Context

    with _captured() as out:
        clients = Clients(cfg)
        try:
            code: int = run_destroy(Context(cfg, clients), True)
        except Exception as exc:
            message, code = describe(exc)
            return Attempt(code, message, out.getvalue(), calls=clients.counter.total)
        return Attempt(code, "", out.getvalue(), calls=clients.counter.total)


def mutating(emu: Any) -> dict[str, int]:
    return {
        f"{c['service']}:{c['operation']}": c["count"] for c in emu.calls() if not is_read(c["operation"])
    }


def total_calls(emu: Any) -> int:
    return sum(int(c["count"]) for c in emu.calls())


def status_doc(cfg: Config) -> dict[str, Any]:
    """`doit status format=json` without doit: every step's observe + diff, checks included."""
    from tasks.runner import Run, status_report

    with _captured():
        run = Run(cfg, include_checks=True)
        results = [run.evaluate(name) for name in run.steps]
        return status_report(cfg, run, results).to_dict()


def drifting(doc: dict[str, Any]) -> set[str]:
    return {s["step"] for s in doc["steps"] if not s["ok"]}


def json_from(stdout: str) -> dict[str, Any]:
    """The JSON document a `format=json` command printed (doit may print lines before it)."""
    doc: dict[str, Any] = json.loads(stdout[stdout.index("{") :])
    return doc


# -- rows ----------------------------------------------------------------------------------------------


def rows_by_seq(emu: Any, cfg: Config, signal: str, run_id: str) -> Counter[int]:
    """How many rows of `run_id` the signal's table holds, per sequence number."""
    from pyiceberg.table import StaticTable

    from tasks.records import RUN_ID_COLUMN, parse_key

    arn = cfg.table_bucket_arn(ACCOUNT)
    loc = emu.client("s3tables").get_table_metadata_location(
        tableBucketARN=arn, namespace=cfg.namespace, name=signal
    )["metadataLocation"]
    table = StaticTable.from_metadata(loc)
    column = table.scan(selected_fields=(RUN_ID_COLUMN,)).to_arrow().column(RUN_ID_COLUMN).to_pylist()
    seqs: Counter[int] = Counter()
    for value in column:
        if value is None:
            continue
        rid, seq = parse_key(value)
        if rid == run_id:
            seqs[seq] += 1
    return seqs


def lost_and_duplicated(seqs: Counter[int], count: int) -> tuple[int, int]:
    lost = sum(1 for s in range(count) if seqs.get(s, 0) == 0)
    duplicated = sum(n - 1 for s, n in seqs.items() if n > 1) + sum(
        n for s, n in seqs.items() if not 0 <= s < count
    )
    return lost, duplicated


def update_stream(emu: Any, name: str, update: dict[str, Any]) -> None:
    fh = emu.client("firehose")
    desc = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId=desc["VersionId"],
        DestinationId=desc["Destinations"][0]["DestinationId"],
        IcebergDestinationUpdate=update,
    )
