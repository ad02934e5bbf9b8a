"""The tool knows Lambda's limits before any call: regions without function URLs (while ingest.enabled),
released and blocked runtimes (cfn-lint's lifecycle data, not botocore's enum), one line and exit 2."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import botocore.session
import pytest

from lake import lambda_facts
from tasks import config as cfg
from tasks.ingest_lambda import default_runtime, python_runtimes
from tests.unit.tasks.template.helpers import DOIT, ROOT, no_credentials_env, recording_endpoint

# The regions refused for ingest only (Firehose has Iceberg there): the others fail the Iceberg rule first.
URL_ONLY = [r for r in lambda_facts.NO_FUNCTION_URL_REGIONS if cfg.has_iceberg_destination(r)]


def test_the_guides_regions_and_those_whose_cloudformation_lacks_the_url_type_have_no_urls() -> None:
    assert set(lambda_facts.NO_FUNCTION_URL_REGIONS) >= {
        "ap-south-2",
        "ap-southeast-4",
        "ap-southeast-5",
        "ca-west-1",
        "eu-south-2",
        "eu-central-2",
        "il-central-1",
        "me-central-1",
    }
    assert not any(lambda_facts.has_function_urls(r) for r in lambda_facts.NO_FUNCTION_URL_REGIONS)
    assert lambda_facts.cloudformation_has_url_type("mx-central-1") is False  # cfn-lint's region data
    assert not lambda_facts.has_function_urls("mx-central-1")
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "us-iso-east-1"):
        assert lambda_facts.has_function_urls(region), region


@pytest.mark.parametrize("region", URL_ONLY)
def test_ingest_in_a_region_without_function_urls_is_refused_naming_the_setting(region: str) -> None:
    with pytest.raises(cfg.UserError) as err:
        cfg.load("prod", {"region": region})
    message = str(err.value)
    assert message.startswith(f"error: region={region!r} has no Lambda function URLs") and "\n" not in message
    assert "ingest.enabled: false" in message
    assert cfg.load("prod", {"region": region, "ingest.enabled": "false"}).region == region


def test_region_refusal_exits_2_before_any_call(tmp_path: Path) -> None:
    cmd = [*DOIT, "--db-file", str(tmp_path / "deps.json"), "plan", "env=prod", "region=ca-west-1"]
    with recording_endpoint() as rec:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=no_credentials_env(rec.url), capture_output=True, text=True, timeout=120
        )
        assert rec.connections == []
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "region='ca-west-1'" in lines[0] and "ingest.enabled" in lines[0]


def test_default_runtime_is_the_newest_released_python_not_botocores_newest() -> None:
    enum = botocore.session.get_session().get_service_model("lambda").shape_for("Runtime").enum  # type: ignore[attr-defined]
    newest_in_enum = max((r for r in enum if r.startswith("python3.")), key=lambda r: int(r.split(".")[1]))
    released = [r for r in lambda_facts.lifecycles() if r.startswith("python3.")]
    assert default_runtime() in released
    assert default_runtime() == max(released, key=lambda r: int(r.split(".")[1]))
    assert newest_in_enum not in released  # botocore lists python3.15 before Lambda releases it
    assert newest_in_enum != default_runtime()
    assert cfg.load("prod").ingest.function.runtime == default_runtime()


@pytest.mark.parametrize(
    ("runtime", "rule"),
    [
        ("python3.6", "Lambda blocks creating functions with it since 2022-07-18"),
        ("python3.7", "Lambda blocks creating functions with it since 2024-01-09"),
        ("python3.15", "it is not a released Lambda runtime"),
        ("python2.7", "must be a Python runtime of Lambda"),
    ],
)
def test_blocked_and_unreleased_runtimes_are_refused(runtime: str, rule: str) -> None:
    with pytest.raises(cfg.UserError) as err:
        cfg.load("prod", {"ingest.runtime": runtime})
    message = str(err.value)
    assert message.startswith(f"error: ingest.runtime={runtime!r} is invalid: {rule}") and "\n" not in message
    assert default_runtime() in message  # it names what to use instead
    assert runtime not in python_runtimes()


def test_blocks_follow_the_date() -> None:
    life = lambda_facts.lifecycles()["python3.10"]
    assert life.create_block is not None
    before = life.create_block - datetime.timedelta(days=1)
    assert "python3.10" in lambda_facts.creatable_python_runtimes(before)
    assert "python3.10" not in lambda_facts.creatable_python_runtimes(life.create_block)
    assert not lambda_facts.blocked("python3.10", "update", life.create_block)  # updates go on a while
