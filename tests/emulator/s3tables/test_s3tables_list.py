"""ListTables in the local AWS as the botocore model and AWS answer it: `namespace` is optional (no filter:
every namespace of the bucket, which `plan` and `status` rely on to see the tables of a namespace the env
left), pages follow `continuationToken` and `maxTables`, and each summary's `namespace` is a list of one
string beside its `type` and `tableARN`."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import error_code
from tests.emulator.s3tables.test_s3tables_api import FIELDS, s3tables


def _table(s3t: object, arn: str, namespace: str, name: str) -> str:
    made = s3t.create_table(  # type: ignore[attr-defined]
        tableBucketARN=arn,
        namespace=namespace,
        name=name,
        format="ICEBERG",
        metadata={"iceberg": {"schema": {"fields": FIELDS}}},
    )
    return str(made["tableARN"])


def test_list_tables_without_a_namespace_lists_every_namespace_in_pages(emulator):
    s3t = s3tables(emulator)
    arn = str(s3t.create_table_bucket(name="list-tables")["arn"])
    for namespace in ("default", "otel"):
        s3t.create_namespace(tableBucketARN=arn, namespace=[namespace])
    made = {
        ("default", "logs"): _table(s3t, arn, "default", "logs"),
        ("default", "traces"): _table(s3t, arn, "default", "traces"),
        ("otel", "logs"): _table(s3t, arn, "otel", "logs"),
    }

    seen, pages, kwargs = {}, 0, {"tableBucketARN": arn, "maxTables": 2}
    while True:
        page = s3t.list_tables(**kwargs)
        pages += 1
        for t in page["tables"]:
            assert isinstance(t["namespace"], list) and len(t["namespace"]) == 1
            assert t["type"] == "customer"
            seen[(t["namespace"][0], t["name"])] = t["tableARN"]
        if not page.get("continuationToken"):
            break
        kwargs["continuationToken"] = page["continuationToken"]
    assert seen == made and pages == 2

    only = s3t.list_tables(tableBucketARN=arn, namespace="otel")["tables"]
    assert [(t["namespace"], t["name"]) for t in only] == [(["otel"], "logs")]


def test_list_tables_of_a_missing_bucket_or_namespace_is_not_found(emulator):
    s3t = s3tables(emulator)
    arn = str(s3t.create_table_bucket(name="list-missing")["arn"])
    with pytest.raises(ClientError) as err:
        s3t.list_tables(tableBucketARN=arn, namespace="nowhere")
    assert error_code(err) == "NotFoundException"
    with pytest.raises(ClientError) as err:
        s3t.list_tables(tableBucketARN=arn.replace("list-missing", "no-such-bucket"))
    assert error_code(err) == "NotFoundException"
