"""The ingest function's alarms against the local AWS, with the deployed zip behind its Function URL:
a function that cannot start (its environment names a secret that is not there) fails every request and
its Errors alarm goes to ALARM, with doctor naming the environment; reserved concurrency 0 throttles
every request and its Throttles alarm goes to ALARM, with doctor naming the setting and the deploy that
lifts it. Each goes back to OK once repaired and a request succeeds."""

from __future__ import annotations

import io
from typing import Any

from tasks import connect, doctor
from tasks.aws import Clients
from tasks.records import new_run_id
from tests.cli.alarm_helpers import next_minute, states
from tests.deploy_helpers import config, deploy
from verify.otlp_post import post, request

OVERRIDES = {"signals": "logs"}


def _post(cfg: Any) -> int:
    conn = connect.read(cfg, Clients(cfg))
    return post(conn.endpoint, "v1/logs", request("logs", new_run_id()), token=conn.token).status


def _in_alarm(emu: Any, cfg: Any) -> set[str]:
    return {n for n, s in states(emu, cfg.alarm_prefix).items() if s == "ALARM"}


def _doctor(cfg: Any, overrides: dict[str, str]) -> dict[str, doctor.Finding]:
    findings = doctor.run(cfg, overrides, io.StringIO())
    return {f.cause: f for f in findings if f.entry.startswith("CloudWatch alarms") and not f.ok}


def test_errors_and_throttles_of_the_ingest_function(emulator: Any, ingest_zip: Any) -> None:
    cfg = config(emulator, OVERRIDES)
    deploy(emulator, OVERRIDES)
    errors, throttled = cfg.alarm_name("ingest", "errors"), cfg.alarm_name("ingest", "throttled")
    assert _post(cfg) == 200  # the cold start, before anything breaks
    lam = emulator.client("lambda")
    variables = lam.get_function_configuration(FunctionName=cfg.ingest_function_name)["Environment"][
        "Variables"
    ]

    next_minute(emulator)
    broken = {**variables, "OTLP_TOKEN_SECRET_ARN": variables["OTLP_TOKEN_SECRET_ARN"] + "-gone"}
    lam.update_function_configuration(
        FunctionName=cfg.ingest_function_name, Environment={"Variables": broken}
    )
    assert _post(cfg) == 502  # a new configuration is a cold start, and it cannot read its token
    next_minute(emulator)
    assert _in_alarm(emulator, cfg) == {errors}
    found = _doctor(cfg, OVERRIDES)[f"alarm {errors} is not in ALARM"].found
    assert "function environment OTLP_TOKEN_SECRET_ARN names the stack's secret" in found, found

    lam.update_function_configuration(
        FunctionName=cfg.ingest_function_name, Environment={"Variables": variables}
    )
    assert _post(cfg) == 200
    next_minute(emulator)
    assert _in_alarm(emulator, cfg) == set()

    stopped = {**OVERRIDES, "ingest.reserved_concurrency": "0"}
    deploy(emulator, stopped)
    next_minute(emulator)
    assert _post(cfg) == 429
    next_minute(emulator)
    assert _in_alarm(emulator, cfg) == {throttled}
    finding = _doctor(config(emulator, stopped), stopped)[f"alarm {throttled} is not in ALARM"]
    assert "ingest.reserved_concurrency is 0: requests beyond 0 at once get 429" in finding.found
    assert finding.fix == "doit deploy env=local ingest.reserved_concurrency=null signals=logs"

    deploy(emulator, OVERRIDES)
    assert _post(cfg) == 200
    next_minute(emulator)
    assert _in_alarm(emulator, cfg) == set()
