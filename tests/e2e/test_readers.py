"""Readers (the `readers` setting, tasks/steps/readers.py): Lake Formation read grants to each reader, the
stack's managed policy for what Athena and `doit query` need besides, their drift in plan and status, and
removal revoking exactly the tool's grants, on the local AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tasks.runner import Run
from tests.deploy_helpers import config, deploy, mutating, run
from tests.emulator.helpers import iam_principal

ACCOUNT = "123456789012"
ANALYST = f"arn:aws:iam::{ACCOUNT}:role/people/analyst"
GRAFANA = f"arn:aws:iam::{ACCOUNT}:role/grafana"
BASE = {"ingest.enabled": "false", "signals": "logs,traces"}
CATALOG = f"{ACCOUNT}:s3tablescatalog/otlp2pipeline-local"
RECORD = "/otlp2pipeline/local/readers"


def _with(*readers: str, **extra: str) -> dict[str, str]:
    return {**BASE, "readers": ",".join(readers), **extra}


def grants_of(emu: Any, principal: str) -> dict[tuple[str, ...], set[str]]:
    """The principal's Lake Formation permissions in the env's catalog, by resource."""
    out: dict[tuple[str, ...], set[str]] = {}
    for e in emu.client("lakeformation").list_permissions(MaxResults=1000)["PrincipalResourcePermissions"]:
        if e["Principal"]["DataLakePrincipalIdentifier"] != principal:
            continue
        res = e["Resource"]
        key = ("database", res["Database"]["Name"]) if "Database" in res else ("table", res["Table"]["Name"])
        out.setdefault(key, set()).update(e["Permissions"])
    return out


READ = {("database", "default"): {"DESCRIBE"}, **{("table", t): {"SELECT", "DESCRIBE"} for t in ("logs", "traces")}}


@pytest.fixture
def people(emulator: Any) -> Any:
    iam = emulator.client("iam")
    iam_principal(iam, ANALYST)
    iam_principal(iam, GRAFANA)
    return emulator


def test_a_reader_gets_read_grants_and_a_converged_deploy_writes_nothing(people):
    deploy(people, _with(ANALYST))
    assert grants_of(people, ANALYST) == READ
    value = people.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Value"]
    assert value == ANALYST
    people.reset_calls()
    r = deploy(people, _with(ANALYST))
    assert mutating(people) == {}
    assert all(res.outcome is not None and res.outcome.result == "unchanged" for res in r.results.values())
