"""Drift made out of band with boto3 is reported by `doit status`, listed by `doit plan`, and
repaired by `doit deploy`, after which the env equals what it was right after a clean deploy.

Each scenario starts from a fresh emulator and a clean in-process deploy; status, plan and the repairing
deploy go through the real doit CLI (status and plan at once: both only read).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.deploy_helpers import DOIT, ROOT
from tests.emulator import streams
from tests.reliability import canon, runs, summary

CALLER = "arn:aws:iam::123456789012:user/moto"  # the emulator's default caller, an IAM user
STREAM_STEPS = frozenset(f"stream_{s}" for s in canon.DEFAULT_SIGNALS)


@dataclass(frozen=True)
class Scenario:
    name: str
    brk: Callable[[Any, Any], None]
    steps: frozenset[str]  # the steps status must report, and no other
    expect: tuple[str, str, str]  # (step, action, text the change must mention)


def _stream(cfg: Any) -> str:
    return str(cfg.stream_name("logs"))


def delete_stream(emu: Any, cfg: Any) -> None:
    emu.client("firehose").delete_delivery_stream(DeliveryStreamName=_stream(cfg))
    streams.wait_stream_gone(emu, _stream(cfg))


def recreate_not_append_only(emu: Any, cfg: Any) -> None:
    dest = {**streams.iceberg_config_of(emu, _stream(cfg)), "AppendOnly": False}
    delete_stream(emu, cfg)
    emu.client("firehose").create_delivery_stream(
        DeliveryStreamName=_stream(cfg), DeliveryStreamType="DirectPut", IcebergDestinationConfiguration=dest
    )


def change_buffering(emu: Any, cfg: Any) -> None:
    runs.update_stream(emu, _stream(cfg), {"BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 600}})


def change_log_stream(emu: Any, cfg: Any) -> None:
    runs.update_stream(
        emu,
        _stream(cfg),
        {
            "CloudWatchLoggingOptions": {
                "Enabled": True,
                "LogGroupName": cfg.log_group_name,
                "LogStreamName": "somewhere-else",
            }
        },
    )


def _revoke(emu: Any, cfg: Any, resource: dict[str, Any], perms: list[str]) -> None:
    emu.client("lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": streams.firehose_role_arn(emu, cfg)},
        Resource=resource,
        Permissions=perms,
    )


def revoke_table_grant(emu: Any, cfg: Any) -> None:
    cat = f"{canon.ACCOUNT}:s3tablescatalog/{cfg.table_bucket_name}"
    _revoke(emu, cfg, {"Table": {"CatalogId": cat, "DatabaseName": cfg.namespace, "Name": "logs"}}, ["ALL"])


def revoke_database_grant(emu: Any, cfg: Any) -> None:
    cat = f"{canon.ACCOUNT}:s3tablescatalog/{cfg.table_bucket_name}"
    _revoke(emu, cfg, {"Database": {"CatalogId": cat, "Name": cfg.namespace}}, ["DESCRIBE"])


def remove_admin(emu: Any, cfg: Any) -> None:
    lf = emu.client("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    settings["DataLakeAdmins"] = [
        a for a in settings.get("DataLakeAdmins", []) if a.get("DataLakePrincipalIdentifier") != CALLER
    ]
    lf.put_data_lake_settings(DataLakeSettings=settings)


def delete_catalog(emu: Any, cfg: Any) -> None:
    emu.client("glue").delete_catalog(CatalogId=canon.CATALOG)


def deregister(emu: Any, cfg: Any) -> None:
    emu.client("lakeformation").deregister_resource(ResourceArn=cfg.table_buckets_arn(canon.ACCOUNT))


def drop_set_context(emu: Any, cfg: Any) -> None:
    iam = emu.client("iam")
    trust = iam.get_role(RoleName=canon.LF_ROLE)["Role"]["AssumeRolePolicyDocument"]
    for st in trust["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Action"] = [a for a in actions if a != "sts:SetContext"]
    iam.update_assume_role_policy(RoleName=canon.LF_ROLE, PolicyDocument=json.dumps(trust))


def remove_role_policy(emu: Any, cfg: Any) -> None:
    iam = emu.client("iam")
    for name in iam.list_role_policies(RoleName=canon.LF_ROLE)["PolicyNames"]:
        iam.delete_role_policy(RoleName=canon.LF_ROLE, PolicyName=name)


def old_table(emu: Any, cfg: Any) -> None:
    """The traces table as a stack of the past made it (flags and dropped_*_count int), and its compaction
    target changed: the tables step commits the widening and puts the maintenance back."""
    from lake.schemas import load

    s3t = emu.client("s3tables")
    arn = cfg.table_bucket_arn(canon.ACCOUNT)
    s3t.delete_table(tableBucketARN=arn, namespace=cfg.namespace, name="traces")
    narrow = ("flags", "dropped_attributes_count", "dropped_events_count", "dropped_links_count")
    fields = [
        {
            "id": c.id,
            "name": c.name,
            "type": "int" if c.name in narrow else c.iceberg_type,
            "required": c.required,
        }
        for c in load("traces").columns
    ]
    day = {"fields": [{"sourceId": 1, "transform": "day", "name": "timestamp_day", "fieldId": 1000}]}
    s3t.create_table(
        tableBucketARN=arn,
        namespace=cfg.namespace,
        name="traces",
        format="ICEBERG",
        metadata={"iceberg": {"schema": {"fields": fields}, "partitionSpec": day}},
    )
    s3t.put_table_maintenance_configuration(
        tableBucketARN=arn,
        namespace=cfg.namespace,
        name="traces",
        type="icebergCompaction",
        value={"status": "enabled", "settings": {"icebergCompaction": {"targetFileSizeMB": 128}}},
    )


def delete_stack_keep_streams(emu: Any, cfg: Any) -> None:
    cfn = emu.client("cloudformation")
    cfn.delete_stack(StackName=cfg.stack_name)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=cfg.stack_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    names = emu.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert {cfg.stream_name(s) for s in cfg.signals} <= set(names)


SCENARIOS = (
    Scenario("stream_deleted", delete_stream, frozenset({"stream_logs"}), ("stream_logs", "create", "")),
    Scenario(
        "stream_not_append_only",
        recreate_not_append_only,
        frozenset({"stream_logs"}),
        ("stream_logs", "update", "AppendOnly"),
    ),
    Scenario(
        "buffering_changed",
        change_buffering,
        frozenset({"stream_logs"}),
        ("stream_logs", "update", "BufferingHints"),
    ),
    Scenario(
        "log_stream_changed",
        change_log_stream,
        frozenset({"stream_logs"}),
        ("stream_logs", "update", "CloudWatchLoggingOptions"),
    ),
    Scenario(
        "table_grant_revoked",
        revoke_table_grant,
        frozenset({"grants"}),
        ("grants", "create", "table default.logs"),
    ),
    Scenario(
        "database_grant_revoked",
        revoke_database_grant,
        frozenset({"grants"}),
        ("grants", "create", "database default"),
    ),
    Scenario("admin_removed", remove_admin, frozenset({"lf_admins"}), ("lf_admins", "create", CALLER)),
    Scenario(
        "catalog_deleted", delete_catalog, frozenset({"catalog"}), ("catalog", "create", "s3tablescatalog")
    ),
    Scenario(
        "resource_deregistered", deregister, frozenset({"lf_resource"}), ("lf_resource", "create", "bucket/*")
    ),
    Scenario(
        "trust_without_set_context", drop_set_context, frozenset({"lf_role"}), ("lf_role", "update", "trust")
    ),
    Scenario(
        "role_policy_removed", remove_role_policy, frozenset({"lf_role"}), ("lf_role", "update", "policy")
    ),
    Scenario(
        "table_behind_the_contract",
        old_table,
        frozenset({"table_traces"}),
        ("table_traces", "update", "column flags"),
    ),
    Scenario(
        "stack_deleted_streams_kept",
        delete_stack_keep_streams,
        # no stack: its create makes the alarms, so the alarms step has nothing to do
        frozenset({"stack", "grants", "firehose_role", *STREAM_STEPS}),
        ("stack", "create", "otlp2pipeline-local"),
    ),
)


def _cli(emu: Any, tmp_path: Any, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": emu.endpoint, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*DOIT, "--db-file", str(tmp_path / f"{args[0]}-deps.json"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _mentions(change: dict[str, Any], text: str) -> bool:
    return (
        text in change["resource"]
        or text in change.get("reason", "")
        or any(text in f for f in change["fields"])
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_drift_is_reported_planned_and_repaired(emulator, tmp_path, scenario):
    cfg = canon.config(emulator)
    deployed = runs.deploy(cfg)
    assert deployed.code == 0, deployed.message
    reference = canon.describe_all(emulator, cfg)
    scenario.brk(emulator, cfg)

    status_p = _cli(emulator, tmp_path, "status", "env=local", "format=json")
    plan_p = _cli(emulator, tmp_path, "plan", "env=local", "format=json")
    code, out, err = _finish(status_p)
    assert code == 1, out + err
    status = runs.json_from(out)
    assert not status["healthy"]
    errors = {s["step"]: s["error"] for s in status["steps"] if s.get("error")}
    assert not errors, errors
    assert runs.drifting(status) == scenario.steps, out
    step, action, text = scenario.expect
    reported = next(s for s in status["steps"] if s["step"] == step)
    assert any(c["action"] == action and _mentions(c, text) for c in reported["changes"]), reported

    code, out, err = _finish(plan_p)
    assert code == 0, out + err
    plan = runs.json_from(out)
    planned = {s["step"] for s in plan["steps"] if s.get("changes")}
    assert planned == scenario.steps, out
    listed = next(s for s in plan["steps"] if s["step"] == step)
    assert any(c["action"] == action and _mentions(c, text) for c in listed["changes"]), listed

    code, out, err = _finish(_cli(emulator, tmp_path, "deploy", "env=local"))
    assert code == 0, out + err
    after = runs.status_doc(cfg)
    assert after["healthy"], runs.drifting(after)
    repaired = canon.describe_all(emulator, cfg)
    orphans = repaired["account"].pop("orphan_grants")
    assert reference["account"].pop("orphan_grants") == []
    if scenario.name == "stack_deleted_streams_kept":
        # Known gap (see the report): the deleted stack's Firehose role keeps its Lake Formation grants in
        # the emulator; deploy neither sees nor revokes them. They name a role that no longer exists.
        assert len(orphans) == 1 + len(canon.DEFAULT_SIGNALS), orphans
        summary.record(
            "drift_notes", [f"stack deleted: {len(orphans)} grants to its deleted Firehose role stay behind"]
        )
        # The new stack imported the kept bucket and namespace, then updated: its resources say so.
        canon.as_created(repaired)
    else:
        assert orphans == []
    diff = canon.first_difference(reference, repaired)
    assert not diff, f"repaired env differs from the clean deploy at {diff}"
    summary.record(f"drift_{scenario.name}", "repaired")
