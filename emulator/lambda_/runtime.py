"""Runs a Python Lambda function's zip without docker: warm worker subprocesses (``_bootstrap.py``).

The zip is unpacked once per CodeSha256 under ``data_dir()/lambda/code/SHA``. A worker is one
``python -I -S -u`` process of the emulator's own interpreter per execution environment, keyed by the
function, its code and its configuration (a change of either starts new environments, as on AWS); it serves
one invocation at a time and stays warm for the next. Concurrent invocations get more workers, up to the
function's reserved concurrency. A timeout kills the worker (``Sandbox.Timedout``); so does an init error.
``stop_all`` (reset, server stop and atexit) ends every worker: none outlives the emulator.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import json
import os
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emulator.core import state

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
MARKER = "\x1eDONE "
LOG_TAIL_BYTES = 4096
INIT_SECONDS = 10  # Lambda's limit for an on-demand environment's init phase
# What an execution environment's log lines go to: (function, log stream, lines).
LogSink = Callable[["FunctionSpec", str, list[str]], None]


@dataclass(frozen=True)
class FunctionSpec:
    """What an execution environment is made of (equal specs share warm workers)."""

    account_id: str
    region: str
    name: str
    arn: str
    version: str
    handler: str
    runtime: str
    timeout: int
    memory_mb: int
    code_sha_hex: str
    environment: tuple[tuple[str, str], ...]
    log_group: str
    reserved_concurrency: int | None = None


@dataclass
class Outcome:
    """One invocation's result: ``payload`` (JSON bytes) and ``function_error`` (None, or ``Unhandled``)."""

    payload: bytes
    function_error: str | None
    log_tail: str
    error_type: str | None = None
    duration_ms: float = 0.0


class Throttled(Exception):
    """Reserved concurrency reached (TooManyRequestsException on AWS)."""


def _code_dir(sha_hex: str, zip_bytes: bytes) -> Path:
    root = state.data_dir() / "lambda" / "code"
    target = root / sha_hex
    with _unpack_lock:
        if not target.is_dir():
            tmp = root / f".{sha_hex}.{uuid.uuid4().hex}"
            tmp.mkdir(parents=True)
            import io

            with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
                zf.extractall(tmp)
            tmp.rename(target)
    return target


_unpack_lock = threading.Lock()


@dataclass(eq=False)
class _Worker:
    spec: FunctionSpec
    proc: subprocess.Popen[str]
    log_stream: str
    lines: list[str] = field(default_factory=list)
    done: dict[str, threading.Event] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)
    cold: bool = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class Pool:
    """Every worker of this emulator process; one lock guards the idle lists and counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[FunctionSpec, list[_Worker]] = {}
        self._busy: dict[str, int] = {}
        self._all: set[_Worker] = set()
        self.log_sink: LogSink | None = None
        self.credentials: Callable[[FunctionSpec], dict[str, str]] | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def _start(self, spec: FunctionSpec, code: Path) -> _Worker:
        now = datetime.datetime.now(datetime.UTC)
        stream = f"{now:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC"}
        env.update(dict(spec.environment))
        env.update(
            {
                "_HANDLER": spec.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "LAMBDA_TASK_ROOT": str(code),
                "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            }
        )
        if self.credentials is not None:
            env.update(self.credentials(spec))
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-u", str(BOOTSTRAP), str(code)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(code),
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        worker = _Worker(spec, proc, stream)
        threading.Thread(target=self._read_log, args=(worker,), daemon=True, name="lambda-log").start()
        with self._lock:
            self._all.add(worker)
        return worker

    def _read_log(self, worker: _Worker) -> None:
        assert worker.proc.stderr is not None
        for line in worker.proc.stderr:
            line = line.rstrip("\n")
            with worker.cond:
                if line.startswith(MARKER):
                    event = worker.done.get(line[len(MARKER) :])
                    if event is not None:
                        event.set()
                    continue
                worker.lines.append(line)
        with worker.cond:
            for event in worker.done.values():
                event.set()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def stop_all(self) -> None:
        """End every worker (reset, server stop, interpreter exit)."""
        with self._lock:
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._busy.clear()
        for worker in workers:
            worker.kill()

    def stop_function(self, arn: str) -> None:
        """End the function's workers (deleted): idle ones now, busy ones when their invocation ends."""
        idle: list[_Worker] = []
        with self._lock:
            for spec in [s for s in self._idle if s.arn == arn]:
                idle += self._idle.pop(spec)
            for worker in [w for w in self._all if w.spec.arn == arn]:
                self._all.discard(worker)
        for worker in idle:
            worker.kill()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.proc.pid for w in self._all if w.alive())

    # -- invocation -------------------------------------------------------------------------------
    def _stale(self, spec: FunctionSpec) -> list[_Worker]:
        """Idle workers of the function's earlier code or configuration (caller holds the lock)."""
        out: list[_Worker] = []
        for other in [s for s in self._idle if s.arn == spec.arn and s != spec]:
            out += self._idle.pop(other)
        for worker in out:
            self._all.discard(worker)
        return out

    def _acquire(self, spec: FunctionSpec, zip_bytes: bytes) -> _Worker:
        with self._lock:
            stale = self._stale(spec)
        for worker in stale:
            worker.kill()
        with self._lock:
            busy = self._busy.get(spec.arn, 0)
            if spec.reserved_concurrency is not None and busy >= spec.reserved_concurrency:
                raise Throttled()
            self._busy[spec.arn] = busy + 1
            idle = self._idle.get(spec, [])
            while idle:
                worker = idle.pop()
                if worker.alive():
                    return worker
        try:
            return self._start(spec, _code_dir(spec.code_sha_hex, zip_bytes))
        except Exception:
            self._release_slot(spec)
            raise

    def _release_slot(self, spec: FunctionSpec) -> None:
        with self._lock:
            self._busy[spec.arn] = max(0, self._busy.get(spec.arn, 1) - 1)

    def invoke(
        self, spec: FunctionSpec, zip_bytes: bytes, event: bytes, request_id: str | None = None
    ) -> Outcome:
        request_id = request_id or str(uuid.uuid4())
        worker = self._acquire(spec, zip_bytes)
        try:
            outcome, keep = self._run(worker, event, request_id)
        finally:
            self._release_slot(spec)
        with self._lock:
            keep = keep and worker.alive() and worker in self._all
            if keep:
                self._idle.setdefault(spec, []).append(worker)
        if not keep:
            self._discard(worker)
        return outcome

    def _run(self, worker: _Worker, event: bytes, request_id: str) -> tuple[Outcome, bool]:
        spec = worker.spec
        done = threading.Event()
        with worker.cond:
            worker.done[request_id] = done
            before = 0 if worker.cold else len(worker.lines)
        header = [f"START RequestId: {request_id} Version: {spec.version}"]
        init_ok = True
        if worker.cold:
            header.insert(0, f"INIT_START Runtime Version: {spec.runtime}.local\tRuntime Version ARN: local")
            # The init phase (imports) has its own limit, as on AWS; the timeout starts with the invocation.
            init_ok = _read_answer(worker, max(INIT_SECONDS, spec.timeout)) is not None
        worker.cold = False
        started = time.monotonic()
        deadline_ms = time.time() * 1000 + spec.timeout * 1000
        request = {
            "request_id": request_id,
            "event": event.decode("utf-8") if event else "{}",
            "deadline_ms": deadline_ms,
            "invoked_function_arn": spec.arn,
        }
        answer: dict[str, object] | None = None
        timed_out = False
        assert worker.proc.stdin is not None and worker.proc.stdout is not None
        try:
            if init_ok:
                worker.proc.stdin.write(json.dumps(request) + "\n")
                worker.proc.stdin.flush()
                answer = _read_answer(worker, spec.timeout)
            if answer is None and worker.alive():
                timed_out = True
        except (BrokenPipeError, OSError, ValueError):
            answer = None
        if answer is not None:
            done.wait(timeout=5)
        else:
            worker.kill()
            done.wait(timeout=2)
        elapsed = (time.monotonic() - started) * 1000
        with worker.cond:
            body_lines = worker.lines[before:]
            worker.done.pop(request_id, None)
        keep = answer is not None and not answer.get("init_error")
        outcome = _outcome(answer, timed_out, request_id, spec, worker)
        footer = [f"END RequestId: {request_id}"]
        if timed_out:
            footer.insert(0, f"{_stamp()} {request_id} Task timed out after {spec.timeout:.2f} seconds")
        footer.append(
            f"REPORT RequestId: {request_id}\tDuration: {elapsed:.2f} ms\tBilled Duration: "
            f"{int(elapsed) + 1} ms\tMemory Size: {spec.memory_mb} MB\tMax Memory Used: 0 MB"
        )
        lines = header + body_lines + footer
        tail = ("\n".join(lines) + "\n").encode("utf-8")[-LOG_TAIL_BYTES:]
        outcome.log_tail = base64.b64encode(tail).decode()
        outcome.duration_ms = elapsed
        if self.log_sink is not None:
            with contextlib.suppress(Exception):  # logging must never fail the invocation
                self.log_sink(spec, worker.log_stream, lines)
        return outcome, keep


def _stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _read_answer(worker: _Worker, timeout: int) -> dict[str, object] | None:
    """The worker's answer line, or None when the timeout passed or the worker died."""
    result: list[str] = []
    assert worker.proc.stdout is not None
    stdout = worker.proc.stdout

    def read() -> None:
        try:
            result.append(stdout.readline())
        except (OSError, ValueError):
            result.append("")

    reader = threading.Thread(target=read, daemon=True, name="lambda-answer")
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        return None
    loaded = json.loads(result[0])
    return loaded if isinstance(loaded, dict) else None


def _outcome(
    answer: dict[str, object] | None, timed_out: bool, request_id: str, spec: FunctionSpec, worker: _Worker
) -> Outcome:
    if timed_out:
        err: object = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds",
        }
        return Outcome(json.dumps(err).encode(), "Unhandled", "", "Sandbox.Timedout")
    if answer is None:
        code = worker.proc.returncode
        err = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
        }
        return Outcome(json.dumps(err).encode(), "Unhandled", "", "Runtime.ExitError")
    if "error" in answer:
        error = answer["error"]
        etype = error.get("errorType") if isinstance(error, dict) else None
        return Outcome(json.dumps(error).encode(), "Unhandled", "", str(etype) if etype else None)
    return Outcome(str(answer.get("payload", "null")).encode(), None, "")


POOL = Pool()
atexit.register(POOL.stop_all)
