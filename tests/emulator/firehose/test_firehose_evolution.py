"""Firehose delivers with the table's current schema: once a commit widened `flags` to long, a value >= 2^31
that the int column refused lands."""

from __future__ import annotations

from typing import Any

from tasks.aws import Clients
from tasks.iceberg_rest import IcebergRest
from tasks.records import encode, make_records, new_run_id
from tests.deploy_helpers import config
from tests.emulator.firehose import streams_setup as fs
from tests.emulator.helpers import NAMESPACE


def test_a_value_the_int_column_refused_lands_once_a_commit_widened_it(env: dict[str, Any]) -> None:
    emu = env["emu"]
    legacy = [
        {
            "Id": c["id"],
            "Name": c["name"],
            "Type": "int" if c["name"] == "flags" else c["type"],
            "Required": c["required"],
        }
        for c in _contract("traces")
    ]
    from emulator.iceberg.store import get_store

    s3t = emu.client("s3tables")
    s3t.create_table(tableBucketARN=fs.BUCKET_ARN, namespace=NAMESPACE, name="traces", format="ICEBERG")
    get_store().create_table(fs.BUCKET_ARN, NAMESPACE, "traces", legacy)
    fs.grant(emu, env["role"], "traces")
    stream = fs.make_stream(env, "fh-traces", signal="traces")
    (record,) = make_records("traces", new_run_id(), 1)
    assert record["flags"] >= 2**31
    fs.put(env, stream, [encode(record)])
    emu.flush()
    assert fs.rows("traces") == [] and fs.error_records(emu, "errors/traces/")

    rest = IcebergRest(Clients(config(emu)), fs.BUCKET_ARN)
    live = rest.load_table(NAMESPACE, "traces")
    assert live is not None
    meta = live["metadata"]
    fields = [dict(f, type="long") if f["name"] == "flags" else f for f in meta["schemas"][0]["fields"]]
    schema = {"type": "struct", "schema-id": 1, "fields": fields}
    rest.commit(
        NAMESPACE,
        "traces",
        [{"type": "assert-current-schema-id", "current-schema-id": 0}],
        [{"action": "add-schema", "schema": schema}, {"action": "set-current-schema", "schema-id": -1}],
    )
    fs.put(env, stream, [encode(record)])
    emu.flush()
    assert [r["flags"] for r in fs.rows("traces")] == [record["flags"]]


def _contract(signal: str) -> list[dict[str, Any]]:
    from lake.schemas import load

    return [
        {"id": c.id, "name": c.name, "type": c.iceberg_type, "required": c.required}
        for c in load(signal).columns
    ]
