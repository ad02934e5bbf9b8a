"""The CloudFormation stack (seed stage 2) and its Iceberg tables, against the table contract."""

from __future__ import annotations

from tasks import schemas
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
