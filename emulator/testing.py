"""What tests, bench and the tool's local mode share: an in-process emulator and a handle on it.

``EmulatorHandle`` is the admin client (emulator/admin/client.py) plus the account, region, data dir and
boto3 clients of one running emulator; ``in_process_emulator()`` starts one on a free port in a temporary
data dir and stops it on exit. ``service_trust`` and ``public_url_permissions`` are the role and Function
URL set-up the Lambda tests and bench/lambda_url.py make by hand.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.config import Config as BotoConfig

from emulator.admin.client import AdminClient
from emulator.core.state import ACCOUNT_ID
from lake import sessions


class EmulatorHandle(AdminClient):
    """A running emulator: its endpoint, its admin API as methods, and boto3 clients of it."""

    account_id = ACCOUNT_ID
    region = "us-east-1"

    def __init__(self, endpoint: str, data_dir: Path) -> None:
        super().__init__(endpoint, timeout=60)
        self.data_dir = data_dir

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for the emulator (standard retry mode unless ``retries=`` says otherwise)."""
        cfg = BotoConfig(retries=config.pop("retries", {"mode": "standard", "max_attempts": 10}), **config)
        return sessions.session().client(  # type: ignore[call-overload]  # a service named at run time
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=cfg,
        )


@contextmanager
def in_process_emulator(prefix: str = "emulator-test-") -> Iterator[EmulatorHandle]:
    """An emulator in this process on a free port, its data dir a temporary directory."""
    from emulator.app import EmulatorServer  # moto and every service load with the first emulator

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = EmulatorServer(port=0, data_dir=Path(tmp) / "data").start()
        try:
            yield EmulatorHandle(server.endpoint, server.data_dir)
        finally:
            server.stop()


def service_trust(service: str) -> dict[str, Any]:
    """The trust policy of a role ``service`` (e.g. ``"lambda.amazonaws.com"``) may assume."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def public_url_permissions(lam: Any, name: str) -> None:
    """The two statements a NONE-auth Function URL needs since October 2025 (``lam``: a Lambda client)."""
    lam.add_permission(
        FunctionName=name,
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="FunctionURLInvokeAllowPublicAccess",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
