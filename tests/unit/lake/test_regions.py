"""Regions and partitions (lake/regions.py): the regions without Iceberg destinations are refused at load,
every other Firehose region is accepted, the tool and the local AWS refuse the same ones, and every ARN the
tool builds or renders is in the region's partition."""

from __future__ import annotations

import dataclasses
import json
import re
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest

from emulator.core.exceptions import AwsError
from emulator.firehose import validation as emulated_firehose
from tasks import config as cfg
from tasks import template
from tasks.errors import UserError
from tasks.step import Context
from tasks.steps import catalog, lf_resource, lf_role, streams, tables
from tasks.steps.grants import ROLE_OUTPUT
from verify import expect

ACCOUNT = "123456789012"


# The four the issue names, one per kind of rule: a China region, GovCloud, and two single regions.
REFUSED = ("cn-north-1", "us-gov-west-1", "ap-southeast-5", "mx-central-1")


_ARN_RE = re.compile(r"arn:(\$\{AWS::Partition\}|[\w-]*):")  # the partition of every ARN in a text


def _firehose_regions() -> list[str]:
    session = botocore.session.get_session()
    return sorted(
        r for p in session.get_available_partitions() for r in session.get_available_regions("firehose", p)
    )


@pytest.mark.parametrize("region", REFUSED)
def test_config_refuses_a_region_without_iceberg_destinations(region: str) -> None:
    with pytest.raises(UserError) as info:
        cfg.load("prod", {"region": region})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"error: region={region!r} is not supported: ")
    assert "no Apache Iceberg destination" in message


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


def test_tool_and_emulator_refuse_the_same_regions() -> None:
    """Two copies of one AWS fact (the tool's and the local AWS's): they must agree for every region."""
    for region in _firehose_regions():
        emulated = True
        try:
            emulated_firehose.check_region(region)
        except AwsError:
            emulated = False
        assert cfg.has_iceberg_destination(region) is emulated, region


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
