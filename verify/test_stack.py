"""The CloudFormation stack (the bash scripts' stage 2) and its Iceberg tables, against the table contract."""

from __future__ import annotations

from lake import schemas
from tasks.doctor import deploy_command
from verify import expect
from verify.tables import table_shape


def test_stack_is_complete_with_the_expected_outputs(stack, stack_outputs, config):
    status = stack["StackStatus"]
    assert status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status, (
        f"stack {config.stack_name} is {status} ({stack.get('StackStatusReason', '')}): "
        f"run `{deploy_command(config)}`"
    )
    missing = [k for k in expect.expected_stack_outputs(config) if k not in stack_outputs]
    assert not missing, f"stack {config.stack_name} lacks outputs {missing}; has {sorted(stack_outputs)}"
    assert stack_outputs.get("TableBucketName", config.table_bucket_name) == config.table_bucket_name
    assert stack_outputs.get("Namespace", config.namespace) == config.namespace


def test_table_has_exactly_the_contract_columns(clients, config, account_id, signal):
    shape = table_shape(clients, config, account_id, signal)
    contract = schemas.load(signal)
    want = [(c.name, c.iceberg_type, c.required) for c in contract.columns]
    got = [(name, typ, req) for _, name, typ, req in shape.columns]
    if shape.source == "Glue GetTable columns":  # Hive view: names and types only
        want = [(n, t, False) for n, t, _ in want]
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    assert not missing and not extra, (
        f"{config.namespace}.{signal} (read from {shape.source}) differs from config/schemas/{signal}.yaml: "
        f"missing or different {missing}; unexpected {extra}"
    )


def test_table_is_partitioned_by_day_of_timestamp(clients, config, account_id, signal):
    shape = table_shape(clients, config, account_id, signal)
    contract = schemas.load(signal)
    want = ((contract.partition_source, contract.partition_transform),)
    assert shape.partition == want, (
        f"{config.namespace}.{signal} partition spec is {list(shape.partition)} (read from {shape.source}), "
        f"expected {list(want)}"
    )


def test_the_tables_step_reads_each_table_as_deploy_does(clients, config, account_id, signal):
    """A probe of what deploy relies on: the table's maintenance is what the config sets, and the S3 Tables
    Iceberg REST endpoint answers LoadTable for the env's warehouse (GetConfig's prefix, SigV4 for
    `s3tables`) with the contract's field ids, types and partition (tasks/steps/tables.py)."""
    import pytest
    from botocore.exceptions import ClientError

    from tasks.iceberg_rest import IcebergRest
    from tasks.steps import table_schema as ts
    from tasks.steps import tables

    name = f"{config.namespace}.{signal}"
    bucket = config.table_bucket_arn(account_id)
    try:
        configuration = clients.s3tables.get_table_maintenance_configuration(
            tableBucketARN=bucket, namespace=config.namespace, name=signal
        )["configuration"]
        missing = False
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
        missing = True
    if missing:  # failed outside the except: the report shows this line, not a chained traceback
        pytest.fail(f"table {name} does not exist in {bucket}: run `{deploy_command(config)}`")
    differs = tables.maintenance_fields(
        tables.desired_maintenance(config), tables.maintenance_of(configuration)
    )
    assert not differs, f"{name} maintenance differs from the config: {differs}"
    loaded = IcebergRest(clients, bucket).load_table(config.namespace, signal)
    assert loaded is not None, f"LoadTable finds no table {name}: run `{deploy_command(config)}`"
    live = ts.live_from_metadata(loaded["metadata"])
    changes, refusals = ts.compare(name, ts.contract_shape(schemas.load(signal)), live)
    assert not changes and not refusals, (
        f"{name} (LoadTable) differs from config/schemas/{signal}.yaml: "
        + "; ".join([f"{c.column}: {c.before} -> {c.after}" for c in changes] + [r.line for r in refusals])
    )
