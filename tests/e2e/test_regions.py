"""Regions and partitions: where Firehose has no Iceberg destination, the tool refuses the region before any
call and the local AWS refuses the stream; everywhere, every ARN is in the region's partition
(aws-facts.md, "Regions")."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from emulator.core.exceptions import AwsError
from emulator.firehose import validation as emulated_firehose
from tasks import config as cfg
from tasks import template
from tasks.errors import EXIT_USAGE, UserError
from tasks.step import Context
from tasks.steps import catalog, lf_resource, lf_role, streams, tables
from tasks.steps.grants import ROLE_OUTPUT
from tests.e2e import verify_helpers as vh
from tests.emulator import helpers as eh
from tests.unit.template_helpers import no_credentials_env, recording_endpoint, run_doit
from verify import expect

ACCOUNT = "123456789012"
# The four the issue names, one per kind of rule: a China region, GovCloud, and two single regions.
REFUSED = ("cn-north-1", "us-gov-west-1", "ap-southeast-5", "mx-central-1")
_ARN_RE = re.compile(r"arn:(\$\{AWS::Partition\}|[\w-]*):")  # the partition of every ARN in a text


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(cfg.CONFIG_DIR_VAR, raising=False)


def _firehose_regions() -> list[str]:
    session = botocore.session.get_session()
    return sorted(
        r for p in session.get_available_partitions() for r in session.get_available_regions("firehose", p)
    )


# -- the tool: refused before any call -----------------------------------------------------------------


@pytest.mark.parametrize("region", REFUSED)
def test_config_refuses_a_region_without_iceberg_destinations(region: str) -> None:
    with pytest.raises(UserError) as info:
        cfg.load("prod", {"region": region})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"error: region={region!r} is not supported: ")
    assert "no Apache Iceberg destination" in message


@pytest.mark.parametrize("region", REFUSED)
def test_doit_refuses_the_region_with_exit_2_and_no_connection(tmp_path: Any, region: str) -> None:
    with recording_endpoint() as endpoint:
        proc = run_doit(
            tmp_path,
            ["env=prod", f"region={region}", f"output={tmp_path / 'out.yaml'}"],
            no_credentials_env(endpoint.url),
        )
        assert endpoint.connections == []
    assert proc.returncode == EXIT_USAGE, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: region={region!r} is not supported: ")
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize("command", ["deploy", "doctor", "plan"])
def test_deploy_doctor_and_plan_name_the_region_and_call_nothing(emulator: Any, command: str) -> None:
    emulator.reset_calls()
    proc = vh.doit(emulator, command, "env=local", "region=cn-north-1")
    assert proc.returncode == EXIT_USAGE, proc.stdout + proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert line.startswith("error: region='cn-north-1' is not supported: "), line
    assert emulator.calls() == []


def test_verify_names_the_region_and_calls_nothing(emulator: Any, tmp_path: Path) -> None:
    """verify reads the same rule: an env file in a refused region is a usage error before any call."""
    config_dir = tmp_path / "config"
    shutil.copytree(cfg.ROOT / "config", config_dir, ignore=shutil.ignore_patterns("schemas"))
    (config_dir / "envs" / "gov.yaml").write_text("region: us-gov-west-1\n")
    emulator.reset_calls()
    env = {**vh.cli_env(emulator), cfg.CONFIG_DIR_VAR: str(config_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "verify/", "--env", "gov", "-p", "no:cacheprovider", "-q"],
        cwd=cfg.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "error: region='us-gov-west-1' is not supported: " in proc.stderr, proc.stderr
    assert emulator.calls() == []


def test_every_other_firehose_region_is_accepted() -> None:
    """The rule refuses exactly aws-facts.md's list: both China regions, both GovCloud ones, four of aws."""
    refused = set()
    for region in _firehose_regions():
        try:
            cfg.load("prod", {"region": region})
        except UserError as exc:
            if "is not supported: " in str(exc):  # not "is unknown" (eusc-de-east-1 fails the shape rule)
                refused.add(region)
    assert refused == {
        "cn-north-1",
        "cn-northwest-1",
        "us-gov-east-1",
        "us-gov-west-1",
        "ap-east-2",
        "ap-southeast-5",
        "ap-southeast-6",
        "mx-central-1",
    }


# -- the local AWS: CreateDeliveryStream with an Iceberg destination fails there -------------------------


def _client(emulator: Any, service: str, region: str) -> Any:
    return boto3.session.Session().client(  # type: ignore[call-overload]  # a service named at run time
        service,
        endpoint_url=emulator.endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _iceberg(region: str) -> dict[str, Any]:
    part = cfg.partition(region)
    config = eh.iceberg_destination(f"arn:{part}:iam::{ACCOUNT}:role/fh", "tb", "logs", "errs", "errors/")
    config["CatalogConfiguration"]["CatalogARN"] = (
        f"arn:{part}:glue:{region}:{ACCOUNT}:catalog/s3tablescatalog/tb"
    )
    config["S3Configuration"]["BucketARN"] = f"arn:{part}:s3:::errs"
    return config


@pytest.mark.parametrize("region", REFUSED)
def test_emulator_refuses_iceberg_streams_where_aws_has_none(emulator: Any, region: str) -> None:
    fh = _client(emulator, "firehose", region)
    with pytest.raises(ClientError) as exc:
        fh.create_delivery_stream(DeliveryStreamName="ice", IcebergDestinationConfiguration=_iceberg(region))
    assert exc.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []
    # Only Iceberg is missing there: an S3 destination is still created.
    part = cfg.partition(region)
    fh.create_delivery_stream(
        DeliveryStreamName="s3",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:{part}:iam::{ACCOUNT}:role/fh",
            "BucketARN": f"arn:{part}:s3:::errs",
        },
    )
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == ["s3"]


def test_emulator_creates_iceberg_streams_in_other_partitions_with_their_arn(emulator: Any) -> None:
    region = "us-iso-east-1"
    fh = _client(emulator, "firehose", region)
    arn = fh.create_delivery_stream(
        DeliveryStreamName="ice", IcebergDestinationConfiguration=_iceberg(region)
    )["DeliveryStreamARN"]
    assert arn == f"arn:aws-iso:firehose:{region}:{ACCOUNT}:deliverystream/ice"


@pytest.mark.parametrize("field", ["RoleARN", "CatalogARN", "BucketARN"])
def test_emulator_refuses_an_arn_of_another_partition(emulator: Any, field: str) -> None:
    region = "us-iso-east-1"
    config = _iceberg(region)
    if field == "RoleARN":
        config["RoleARN"] = f"arn:aws:iam::{ACCOUNT}:role/fh"
    elif field == "CatalogARN":
        config["CatalogConfiguration"]["CatalogARN"] = (
            f"arn:aws:glue:{region}:{ACCOUNT}:catalog/s3tablescatalog/tb"
        )
    else:
        config["S3Configuration"]["BucketARN"] = "arn:aws:s3:::errs"
    fh = _client(emulator, "firehose", region)
    with pytest.raises(ClientError) as exc:
        fh.create_delivery_stream(DeliveryStreamName="ice", IcebergDestinationConfiguration=config)
    assert exc.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert fh.list_delivery_streams()["DeliveryStreamNames"] == []


def test_tool_and_emulator_refuse_the_same_regions() -> None:
    """Two copies of one AWS fact (the tool's and the local AWS's): they must agree for every region."""
    for region in _firehose_regions():
        emulated = True
        try:
            emulated_firehose.check_region(region)
        except AwsError:
            emulated = False
        assert cfg.has_iceberg_destination(region) is emulated, region


# -- ARNs: all in the region's partition ---------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _tool_arns(config: cfg.Config) -> list[str]:
    """Every ARN the tool builds itself (not read from AWS), through the steps, verify and the documents."""
    clients: Any = SimpleNamespace(account_id=ACCOUNT)
    ctx = Context(config, clients)
    ctx.facts.stack_outputs = {ROLE_OUTPUT: config.role_arn(ACCOUNT, "firehose-generated")}
    built: list[Any] = [
        config.table_buckets_arn(ACCOUNT),
        config.table_bucket_arn(ACCOUNT),
        config.bucket_catalog_arn(ACCOUNT),
        config.error_bucket_arn(ACCOUNT),
        config.stream_arn(ACCOUNT, "logs"),
        lf_role.role_arn(config, ACCOUNT),
        lf_resource.desired(ctx),
        catalog.desired(ctx),
        tables.bucket_arn(ctx),
        [streams.destination(ctx, s) for s in config.signals],
        expect.lf_resource_arn(config, ACCOUNT),
        expect.lf_role_arn(config, ACCOUNT),
        expect.table_bucket_arn(config, ACCOUNT),
        expect.catalog_arn(config, ACCOUNT),
        template.lf_role_documents(config, ACCOUNT),
    ]
    return [s for s in _strings(built) if s.startswith("arn:")]


def _in_cn() -> cfg.Config:
    """prod in cn-north-1: load() refuses the region today, so the Config is made from prod's directly."""
    return dataclasses.replace(cfg.load("prod"), region="cn-north-1")


def test_tool_arns_in_aws_cn_all_start_arn_aws_cn() -> None:
    config = _in_cn()
    assert config.partition == "aws-cn"
    arns = _tool_arns(config)
    assert len(arns) >= 20
    assert [a for a in arns if not a.startswith("arn:aws-cn:")] == []
    assert "arn:aws:" not in json.dumps(template.lf_role_documents(config, ACCOUNT))


def test_rendered_aws_cn_template_uses_the_partition() -> None:
    """The stack's ARNs come from ${AWS::Partition}: in cn-north-1 CloudFormation makes each arn:aws-cn:."""
    text = template.render(_in_cn())
    prefixes = set(_ARN_RE.findall(text))
    assert prefixes == {"${AWS::Partition}"}
    resolved = text.replace("${AWS::Partition}", "aws-cn")
    assert set(_ARN_RE.findall(resolved)) == {"aws-cn"}


def test_a_loaded_config_in_another_partition_builds_its_arns() -> None:
    """Through load() itself: an aws-iso region passes the rule, and every ARN is arn:aws-iso:."""
    config = cfg.load("prod", {"region": "us-iso-east-1"})
    arns = _tool_arns(config)
    assert arns and [a for a in arns if not a.startswith("arn:aws-iso:")] == []


def test_no_arn_aws_literal_in_tasks() -> None:
    """ARNs are built by Config's methods only: no module of tasks/ spells a partition out."""
    root = cfg.ROOT / "tasks"
    found = [
        f"{path.relative_to(cfg.ROOT)}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "arn:aws" in line
    ]
    assert found == []
