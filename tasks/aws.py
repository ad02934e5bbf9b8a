"""The one AWS session factory: region, profile and endpoint from the env's config.

botocore's standard retry mode handles throttling and transient errors; nothing else in the tool
retries AWS calls by hand (IAM eventual consistency aside, see tasks/steps/lf_role.py). Every call
is counted here, reads and writes apart, for the summary line and the benchmarks.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from tasks.config import Config

READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Search", "Lookup", "Validate")

# Account id moto and the emulator use; only meaningful for the local emulator.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def is_read(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES)


@dataclass
class CallCounter:
    """Counts API calls as sent on the wire (retries included), per service and operation."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self.calls[(service, operation)] += 1

    @property
    def reads(self) -> int:
        return sum(n for (_, op), n in self.calls.items() if is_read(op))

    @property
    def writes(self) -> int:
        return sum(n for (_, op), n in self.calls.items() if not is_read(op))

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def summary(self) -> str:
        return f"{self.total} AWS calls ({self.reads} reads, {self.writes} writes)"


class Clients:
    """Lazily-created boto3 clients sharing one session, one retry policy and one call counter."""

    def __init__(self, config: Config, counter: CallCounter | None = None) -> None:
        self.config = config
        self.counter = counter or CallCounter()
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        if config.is_local and config.endpoint:
            from tasks.emulator_ctl import ensure_emulator

            ensure_emulator(config.endpoint)
        session_kwargs: dict[str, Any] = {"region_name": config.region}
        if config.profile:
            session_kwargs["profile_name"] = config.profile
        self.session = boto3.session.Session(**session_kwargs)
        if config.is_local and self.session.get_credentials() is None:
            self.session = boto3.session.Session(**session_kwargs, **EMULATOR_CREDENTIALS)
        self._boto_config = BotoConfig(
            retries={"mode": "standard", "max_attempts": 10},
            max_pool_connections=32,
            connect_timeout=10,
            read_timeout=60,
        )
        self.session.events.register("before-send", self._count)

    def _count(self, request: Any, **kwargs: Any) -> None:
        # The event name is "before-send.SERVICE.OPERATION" (request.context carries neither).
        _, _, rest = str(kwargs.get("event_name", "")).partition(".")
        service, _, operation = rest.partition(".")
        self.counter.record(service or "?", operation or "?")

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(
                    service, endpoint_url=self.config.endpoint, config=self._boto_config
                )
            return self._clients[service]

    # Named accessors keep call sites short and greppable.
    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def lakeformation(self) -> Any:
        return self.client("lakeformation")

    @property
    def glue(self) -> Any:
        return self.client("glue")

    @property
    def cloudformation(self) -> Any:
        return self.client("cloudformation")

    @property
    def firehose(self) -> Any:
        return self.client("firehose")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def s3tables(self) -> Any:
        return self.client("s3tables")

    @property
    def logs(self) -> Any:
        return self.client("logs")

    @property
    def cloudwatch(self) -> Any:
        return self.client("cloudwatch")

    @cached_property
    def identity(self) -> dict[str, str]:
        """The caller (STS GetCallerIdentity), read once per run."""
        ident = self.sts.get_caller_identity()
        return {"Account": ident["Account"], "Arn": ident["Arn"]}

    @property
    def account_id(self) -> str:
        return self.identity["Account"]

    @property
    def caller_arn(self) -> str:
        """The caller as Lake Formation names principals: an assumed role maps to its IAM role ARN."""
        arn = self.identity["Arn"]
        parts = arn.split(":")
        if len(parts) == 6 and parts[5].startswith("assumed-role/"):
            role = parts[5].split("/")[1]
            return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
        return arn
