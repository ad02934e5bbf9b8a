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

from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from lake import sessions
from lake.operations import is_read
from tasks.config import Config, check_env_file, configured_endpoint
from tasks.errors import EXIT_AWS, StepFailed

# Account id moto and the emulator use; only meaningful for the local emulator.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class Principal:
    """An IAM user or role as Lake Formation names it: its full ARN, path included (a path-less ARN of a
    role with a path is another principal to Lake Formation)."""

    arn: str
    source: str  # where it was read: the config's caller_principal, iam:GetRole or sts:GetCallerIdentity

    @property
    def kind(self) -> str:
        """role, user, or root (the account itself), from the ARN's resource."""
        resource = self.arn.split(":", 5)[-1]
        return resource.split("/", 1)[0]

    def __str__(self) -> str:
        return self.arn


class CallerPrincipalUnknown(StepFailed):
    """The caller's role ARN cannot be read: the message names the permission and the setting."""

    exit_code = EXIT_AWS


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
        check_env_file(config)  # every command reaches AWS through here: a mistyped env stops first
        self.config = config
        self.counter = counter or CallCounter()
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._caller_principal: Principal | None = None
        self._principal_lock = threading.Lock()
        if config.is_local and config.endpoint:
            from tasks.emulator_ctl import ensure_emulator

            ensure_emulator(config.endpoint, configured_endpoint(config.env))
        session_kwargs: dict[str, Any] = {"region_name": config.region}
        if config.profile:
            session_kwargs["profile_name"] = config.profile
        self.session = sessions.session(**session_kwargs)
        if config.is_local and self.session.get_credentials() is None:
            self.session = sessions.session(**session_kwargs, **EMULATOR_CREDENTIALS)
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
                self._clients[service] = self.session.client(  # type: ignore[call-overload]  # a service named at run time
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
    def ssm(self) -> Any:
        return self.client("ssm")

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
    def caller_principal(self) -> Principal:
        """The caller as Lake Formation names principals: an IAM user or role ARN, path included.

        GetCallerIdentity of an assumed role drops the role's IAM path (SSO roles live under
        /aws-reserved/sso.amazonaws.com/...), and Lake Formation refuses a path-less ARN, so the role's
        ARN is read with iam:GetRole, never rebuilt. `caller_principal` in the env config skips the read.
        """
        if self.config.caller_principal:
            return Principal(self.config.caller_principal, "caller_principal")
        with self._principal_lock:  # one GetRole per run, whichever step asks first
            if self._caller_principal is None:
                self._caller_principal = self._read_caller_principal()
            return self._caller_principal

    def _read_caller_principal(self) -> Principal:
        arn = self.identity["Arn"]
        parts = arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("assumed-role/"):
            return Principal(arn, "sts:GetCallerIdentity")  # an IAM user (its ARN has its path) or root
        role = parts[5].split("/")[1]
        try:
            return Principal(str(self.iam.get_role(RoleName=role)["Role"]["Arn"]), "iam:GetRole")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("AccessDenied", "AccessDeniedException"):
                raise
            raise CallerPrincipalUnknown(
                f"error: cannot read the caller's IAM role {role} (iam:GetRole is denied): Lake Formation "
                f"needs the role's full ARN, path included; allow iam:GetRole on "
                f"{self.config.role_arn(parts[4], '*' + role)}, or set caller_principal to the role's ARN "
                f"({self.config.role_arn(parts[4], 'PATH/' + role)}) in {self.config.env}'s config"
            ) from None
