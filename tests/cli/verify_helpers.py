"""Shared by tests/cli/verify/ and tests/cli/commands/test_doctor.py: deploy onto the test emulator, run the
CLIs, and break a deployed env out of band (plain boto3, as a person or another tool would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tasks.config import Config
from tasks.runner import Run

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


def local_config(emu: Any) -> Config:
    from tests.deploy_helpers import config

    return config(emu)


def deploy(emu: Any) -> Config:
    """A fresh, converged local env (the deploy engineer's runner, in-process)."""
    cfg = local_config(emu)
    run = Run(cfg)
    results = run.deploy_sequential()
    failed = [r for r in results if r.error]
    assert not failed, [f"{r.name}: {r.error}" for r in failed]
    return cfg


def cli_env(emu: Any) -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_ENDPOINT_URL"] = emu.endpoint
    env["PYTHONUNBUFFERED"] = "1"
    return env


def config_dir(tmp_path: Path, extra: str) -> Path:
    """A copy of config/ whose env local ends with `extra` (YAML), as a team keeps its env files; point
    OTLP2PIPELINE_CONFIG_DIR at it for deploys and at `verify_in` for verify."""
    from tasks import config as config_mod

    root = tmp_path / "config"
    shutil.copytree(config_mod.CONFIG_DIR, root)
    env = root / "envs" / "local.yaml"
    env.write_text(env.read_text() + extra)
    return root


def verify_in(emu: Any, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pytest ARGS --env local` of verify/, with the env's settings from the config directory `root`."""
    from tasks import config as config_mod

    env = {**cli_env(emu), config_mod.CONFIG_DIR_VAR: str(root)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--env", "local", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def doit(emu: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """`doit ARGS endpoint=EMULATOR` in-process (tests/deploy_helpers.py doit()), its own dep file."""
    from tests.deploy_helpers import doit as doit_here

    return doit_here(emu, Path(tempfile.mkdtemp(prefix="doit-")), *args, f"endpoint={emu.endpoint}")


def run_verify(emu: Any, *extra: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "verify/", "--env", "local", "-p", "no:cacheprovider", "-q", *extra],
        cwd=ROOT,
        env=cli_env(emu),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, time.monotonic() - t0


# -- broken states -----------------------------------------------------------------------------------


def revoke_table_grant(emu: Any, cfg: Config, signal: str = "logs") -> str:
    cfn = emu.client("cloudformation")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=cfg.stack_name)["Stacks"][0]["Outputs"]
    }
    role = outputs["FirehoseRoleArn"]
    emu.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": role},
        Resource={
            "Table": {
                "CatalogId": f"{ACCOUNT}:s3tablescatalog/{cfg.table_bucket_name}",
                "DatabaseName": cfg.namespace,
                "Name": signal,
            }
        },
        Permissions=["ALL"],
    )
    return role


def drop_set_context(emu: Any) -> None:
    iam = emu.client("iam")
    trust = iam.get_role(RoleName="S3TablesRoleForLakeFormation")["Role"]["AssumeRolePolicyDocument"]
    for st in trust["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Action"] = [a for a in actions if a != "sts:SetContext"]
    iam.update_assume_role_policy(RoleName="S3TablesRoleForLakeFormation", PolicyDocument=json.dumps(trust))


def delete_catalog(emu: Any) -> None:
    emu.client("glue").delete_catalog(CatalogId="s3tablescatalog")


def recreate_stream_without_append_only(emu: Any, cfg: Config, signal: str = "logs") -> None:
    """What streams made by the bash scripts' CloudFormation look like: same destination, AppendOnly false."""
    from tests.emulator.streams import iceberg_config_of, wait_stream_gone

    name = cfg.stream_name(signal)
    dest = {**iceberg_config_of(emu, name), "AppendOnly": False}
    dest.pop("S3BackupMode", None)
    fh = emu.client("firehose")
    fh.delete_delivery_stream(DeliveryStreamName=name)
    wait_stream_gone(emu, name)
    fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut", IcebergDestinationConfiguration=dest
    )
