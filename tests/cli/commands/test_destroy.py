"""`doit destroy`: refuses without force=1 and a terminal; deletes the env, keeps the account setup."""

from __future__ import annotations

import pytest

from lake.signals import ALL_SIGNALS
from tasks.aws import Clients
from tasks.destroy import destroy, inventory
from tasks.errors import StepFailed
from tasks.step import Context
from tests.deploy_helpers import config, deploy, doit, mutating, run


def _env_left(emu) -> dict:
    cfg = config(emu)
    inv = inventory(Context(cfg, Clients(cfg)))
    stack, grants = inv.of("stack"), inv.of("grants")
    return {
        "streams": [inv.of(f"stream_{s}") for s in ALL_SIGNALS if inv.of(f"stream_{s}")],
        "stack": stack and stack.stack_id,
        "bucket": stack and stack.bucket_arn,
        "error_bucket": stack and stack.error_bucket,
        "grants": len(grants.entries) if grants else 0,
    }


def _account_setup(emu) -> tuple:
    iam = emu.client("iam")
    lf = emu.client("lakeformation")
    role = iam.get_role(RoleName="S3TablesRoleForLakeFormation")["Role"]["Arn"]
    reg = lf.describe_resource(ResourceArn="arn:aws:s3tables:us-east-1:123456789012:bucket/*")["ResourceInfo"]
    cat = emu.client("glue").get_catalog(CatalogId="s3tablescatalog")["Catalog"]["Name"]
    admins = lf.get_data_lake_settings()["DataLakeSettings"]["DataLakeAdmins"]
    return role, reg["RoleArn"], cat, admins


def test_destroy_without_force_and_without_terminal_deletes_nothing(emulator, tmp_path):
    deploy(emulator)
    before = _env_left(emulator)
    emulator.reset_calls()
    out = doit(emulator, tmp_path, "destroy", "env=local")
    assert out.returncode != 0
    assert "force=1" in out.stderr and "nothing was deleted" in out.stderr
    assert "firehose stream otlp2pipeline-local-logs" in out.stdout  # the list of what would go
    assert mutating(emulator) == {}
    assert _env_left(emulator) == before


def test_destroy_force_removes_the_env_keeps_account_setup_and_is_repeatable(emulator, tmp_path):
    deploy(emulator)
    s3 = emulator.client("s3")
    bucket = "otlp2pipeline-local-errors-123456789012-us-east-1"
    for i in range(3):  # failed-record objects, with versions
        s3.put_object(Bucket=bucket, Key="errors/logs/x.json", Body=f"{i}".encode())
    setup = _account_setup(emulator)

    out = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "kept:" in out.stdout
    assert _env_left(emulator) == {
        "streams": [],
        "stack": None,
        "bucket": None,
        "error_bucket": None,
        "grants": 0,
    }
    assert _account_setup(emulator) == setup

    again = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to delete" in again.stdout

    # and a fresh deploy after destroy converges again
    r = deploy(emulator)
    assert all(res.error is None for res in r.results.values())


def test_destroy_deletes_every_table_the_stack_kept_and_the_bucket_after_the_stack(emulator, tmp_path):
    """The stack keeps the table bucket and namespace (DeletionPolicy): destroy deletes every table of the
    bucket (a namespace and table someone added included), the namespaces and the bucket through the S3
    Tables API once the stack is gone."""
    cfg = config(emulator)
    deploy(emulator)
    s3tables = emulator.client("s3tables")
    arn = f"arn:aws:s3tables:us-east-1:123456789012:bucket/{cfg.table_bucket_name}"
    s3tables.create_namespace(tableBucketARN=arn, namespace=["scratch"])
    s3tables.create_table(tableBucketARN=arn, namespace="scratch", name="adhoc", format="ICEBERG")

    out = doit(emulator, tmp_path, "destroy", "env=local", "force=1")
    assert out.returncode == 0, out.stdout + out.stderr
    listed = next(line for line in out.stdout.splitlines() if "with every table and its data" in line)
    assert all(f"{t}" in listed for t in ("default.logs", "default.gauge", "scratch.adhoc")), listed
    assert "TableBucket AWS::S3Tables::TableBucket DELETE_SKIPPED" in out.stdout
    assert f"deleted table bucket {arn}" in out.stdout
    assert _env_left(emulator)["stack"] is None and _env_left(emulator)["bucket"] is None


def test_deploy_right_after_destroy_waits_out_the_bucket_names_transitional_state(emulator):
    """AWS may refuse a just-deleted table bucket name for a while (ConflictException): the deploy fails
    naming it, and the next deploy after the window replaces the rolled-back stack and converges. The
    window is held (an hour) until the failed deploy is seen, then ended: no race with a loaded machine."""
    cfg = config(emulator)
    deploy(emulator)
    emulator.set_faults({"latency": {"s3tables_bucket_name_reuse_seconds": 3600.0}})
    try:
        assert destroy(Context(cfg, Clients(cfg)), force=True) == 0
        with pytest.raises(StepFailed, match=r"TableBucket .*CREATE_FAILED.*transitional state"):
            run(emulator).deploy_sequential()
        assert emulator.faults()["fired"]["latency"] == 1  # the one bucket deletion opened the window
        emulator.set_faults({"latency": {"s3tables_bucket_name_reuse_seconds": 0.0}})  # the window passes
        r = deploy(emulator)
        assert all(res.error is None for res in r.results.values())
    finally:
        emulator.clear_faults()
    emulator.reset_calls()
    deploy(emulator)
    assert mutating(emulator) == {}


def test_destroy_revokes_grants_the_account_listing_omits(emulator, monkeypatch):
    """If the account-wide ListPermissions leaves out the child catalogs' grants, destroy still finds the
    Firehose role's grants (a per-resource read for the database and each table) and revokes them."""
    from tasks.steps import lf_permissions

    cfg = config(emulator)
    deploy(emulator)
    listed = lf_permissions._list_all
    monkeypatch.setattr(
        lf_permissions, "_list_all", lambda ctx: [e for e in listed(ctx) if "s3tablescatalog" not in str(e)]
    )
    held = inventory(Context(cfg, Clients(cfg))).of("grants")
    assert held is not None
    assert len(held.entries) == 1 + len(cfg.signals)  # DESCRIBE on the database, ALL on each table
    assert destroy(Context(cfg, Clients(cfg)), force=True) == 0
    everything = emulator.client("lakeformation").list_permissions()["PrincipalResourcePermissions"]
    assert [e for e in everything if e["Principal"]["DataLakePrincipalIdentifier"] == held.role] == []
