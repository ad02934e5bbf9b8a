"""The S3 Tables Iceberg REST endpoint of the local AWS (emulator/s3tables/rest.py), through the tool's client
(tasks/iceberg_rest.py), pyiceberg's RestCatalog and raw requests: config, LoadTable, commits applied and
refused as Iceberg does, errors in the REST spec's model, SigV4, call counting and faults."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tasks.aws import Clients
from tasks.errors import describe
from tasks.iceberg_rest import IcebergRest
from tests.deploy_helpers import config
from tests.emulator.s3tables.test_s3tables_api import NS, bucket, create, iceberg

WIDEN = [
    {"id": 1, "name": "timestamp", "type": "timestamp", "required": True},
    {"id": 2, "name": "service_name", "type": "string", "required": True},
    {"id": 3, "name": "flags", "type": "long", "required": False},
]


def client(emu: Any, arn: str) -> IcebergRest:
    return IcebergRest(Clients(config(emu)), arn)


def loaded(emu: Any) -> tuple[IcebergRest, dict[str, Any]]:
    """A new table `logs` (flags int) and the tool's client's LoadTable of it."""
    arn = bucket(emu)
    create(emu, arn)
    rest = client(emu, arn)
    live = rest.load_table(NS, "logs")
    assert live is not None
    return rest, live


def schema_commit(live: dict[str, Any], fields: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    meta = live["metadata"]
    requirements = [{"type": "assert-current-schema-id", "current-schema-id": meta["current-schema-id"]}]
    schema = {"type": "struct", "schema-id": meta["current-schema-id"] + 1, "fields": fields}
    return requirements, [
        {"action": "add-schema", "schema": schema},
        {"action": "set-current-schema", "schema-id": -1},
    ]


def raw(
    emu: Any,
    method: str,
    path: str,
    body: bytes | None = None,
    service: str = "s3tables",
    secret: str = "testing",
) -> tuple[int, dict[str, Any]]:
    request = AWSRequest(method=method, url=emu.endpoint + path, data=body)
    SigV4Auth(Credentials("testing", secret), service, "us-east-1").add_auth(request)
    req = urllib.request.Request(emu.endpoint + path, data=body, method=method, headers=dict(request.headers))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_load_and_a_widening_commit_through_the_tools_client_are_counted_reads_and_writes(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    rest = client(emulator, arn)
    emulator.reset_calls()
    live = rest.load_table(NS, "logs")
    assert live is not None and live["metadata-location"].endswith(".metadata.json")
    assert [f["type"] for f in live["metadata"]["schemas"][0]["fields"]] == ["timestamp", "string", "int"]
    done = rest.commit(NS, "logs", *schema_commit(live, WIDEN))
    assert done["metadata"]["current-schema-id"] == 1
    assert {(c["operation"], c["count"]) for c in emulator.calls()} == {
        ("GetConfig", 1),
        ("LoadTable", 1),
        ("UpdateTable", 1),
    }
    assert (rest.clients.counter.reads, rest.clients.counter.writes) == (2, 1)
    assert str(iceberg(emulator, arn).schema().find_field("flags").field_type) == "long"
    assert rest.load_table(NS, "nope") is None


def test_commits_iceberg_refuses_and_stale_requirements_get_the_specs_errors(emulator):
    rest, live = loaded(emulator)
    refused = {
        "narrowed": [*WIDEN[:2], {"id": 3, "name": "flags", "type": "string", "required": False}],
        "made required": [*WIDEN[:2], {"id": 3, "name": "flags", "type": "int", "required": True}],
        "new required": [*WIDEN, {"id": 4, "name": "zone", "type": "string", "required": True}],
    }
    for name, fields in refused.items():
        with pytest.raises(ClientError) as err:
            rest.commit(NS, "logs", *schema_commit(live, fields))
        assert err.value.response["Error"]["Code"] == "BadRequestException", name
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    rest.commit(NS, "logs", *schema_commit(live, WIDEN))
    with pytest.raises(ClientError) as err:  # the same commit again: its schema id requirement fails
        rest.commit(NS, "logs", *schema_commit(live, WIDEN))
    assert err.value.response["Error"]["Code"] == "CommitFailedException"
    assert describe(err.value)[0].startswith("error: UpdateTable failed: CommitFailedException: ")


def test_requests_are_checked_as_aws_checks_them_and_errors_follow_the_rest_spec(emulator):
    arn = bucket(emulator)
    create(emulator, arn)
    prefix = urllib.parse.quote(arn, safe="")
    status, doc = raw(emulator, "GET", f"/iceberg/v1/config?warehouse={urllib.parse.quote(arn, safe='')}")
    assert (status, doc) == (200, {"defaults": {}, "overrides": {"prefix": prefix}})
    status, doc = raw(emulator, "GET", f"/iceberg/v1/{prefix}/namespaces/{NS}/tables/nope")
    assert status == 404 and doc["error"]["type"] == "NoSuchTableException" and doc["error"]["code"] == 404
    status, doc = raw(emulator, "GET", f"/iceberg/v1/{prefix}/namespaces/other/tables/logs")
    assert status == 404 and doc["error"]["type"] == "NoSuchNamespaceException"
    assert raw(emulator, "GET", f"/iceberg/v1/{prefix}/namespaces/{NS}/tables/logs", service="glue")[0] == 403
    assert raw(emulator, "GET", f"/iceberg/v1/{prefix}/namespaces/{NS}/tables/logs", secret="wrong")[0] == 403
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(
            f"{emulator.endpoint}/iceberg/v1/{prefix}/namespaces/{NS}/tables/logs", timeout=30
        )
    assert err.value.code == 401
    other = "arn:aws:s3tables:us-east-1:123456789012:bucket/no-such-bucket"
    status, doc = raw(emulator, "GET", f"/iceberg/v1/config?warehouse={urllib.parse.quote(other, safe='')}")
    assert status == 404 and doc["error"]["type"] == "NoSuchWarehouseException"


def test_a_commit_is_a_write_a_fault_can_fail_and_throttling_is_retried(emulator):
    rest, live = loaded(emulator)
    emulator.set_faults({"fail_mutating_call": {"number": 1, "error_code": "AccessDenied", "status": 403}})
    with pytest.raises(ClientError) as err:
        rest.commit(NS, "logs", *schema_commit(live, WIDEN))
    assert describe(err.value)[0].startswith("error: UpdateTable failed: AccessDenied: ")
    assert emulator.faults()["fired"]["fail_mutating_call"] == 1
    emulator.set_faults({"fail_mutating_call": None, "throttle": {"fraction": 0.5, "seed": 3}})
    try:
        for _ in range(4):
            assert rest.load_table(NS, "logs") is not None
    finally:
        emulator.clear_faults()


def test_an_unreachable_endpoint_is_one_line(emulator):
    cfg = config(emulator)
    clients = Clients(cfg)
    rest = IcebergRest(clients, "arn:aws:s3tables:us-east-1:123456789012:bucket/x")
    rest.base = "http://127.0.0.1:9/iceberg"  # nothing listens on the discard port
    with pytest.raises(Exception) as err:
        rest.load_table(NS, "logs")
    message, code = describe(err.value)
    assert (message, code) == (
        "error: cannot reach http://127.0.0.1:9/iceberg/v1/config?warehouse=arn%3Aaws%3As3tables%3Aus-east-1%3A123456789012%3Abucket%2Fx",
        4,
    )


def test_pyiceberg_rest_catalog_loads_and_evolves_a_table(emulator):
    from pyiceberg.catalog import load_catalog
    from pyiceberg.types import LongType, StringType

    arn = bucket(emulator)
    create(emulator, arn)
    catalog = load_catalog(
        "s3tables",
        **{
            "type": "rest",
            "uri": f"{emulator.endpoint}/iceberg",
            "warehouse": arn,
            "rest.sigv4-enabled": "true",
            "rest.signing-name": "s3tables",
            "rest.signing-region": "us-east-1",
        },
    )
    table = catalog.load_table((NS, "logs"))
    with table.update_schema() as update:
        update.update_column("flags", LongType())
        update.add_column("zone", StringType())
    fields = {f.name: str(f.field_type) for f in iceberg(emulator, arn).schema().fields}
    assert fields == {"timestamp": "timestamp", "service_name": "string", "flags": "long", "zone": "string"}
    assert catalog.table_exists((NS, "logs")) and not catalog.table_exists((NS, "nope"))
