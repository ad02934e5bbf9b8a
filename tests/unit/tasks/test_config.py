"""Env config: merging, overrides, names, and bad input refused with one line before any AWS call."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import botocore.endpoint
import pytest
from doit import doit_cmd

from lake.signals import DEFAULT_SIGNALS
from tasks import config as cfg
from tasks.cli import args
from tasks.errors import EXIT_USAGE, UserError
from tests.unit.tasks.template.helpers import no_credentials_env, recording_endpoint, run_doit

REPO_CONFIG = Path(cfg.__file__).resolve().parent.parent / "config"


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch):
    """Any AWS request or outbound connection during these tests is a failure."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(cfg.CONFIG_DIR_VAR, raising=False)
    calls: list[object] = []

    def refuse_request(self, *args, **kwargs):
        calls.append(args)
        raise AssertionError("an AWS request was sent")

    real_connect = socket.socket.connect

    def refuse_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            calls.append(address)
            raise AssertionError(f"a connection to {address} was opened")
        return real_connect(self, address)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse_request)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    yield
    assert calls == []


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """A copy of the repo's config directory, selected through OTLP2PIPELINE_CONFIG_DIR."""
    target = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, target, ignore=shutil.ignore_patterns("schemas"))
    monkeypatch.setenv(cfg.CONFIG_DIR_VAR, str(target))
    return target


# -- loading and merging ---------------------------------------------------------------------------


def test_shipped_envs_load():
    local = cfg.load("local")
    prod = cfg.load("prod")
    assert local.is_local and local.endpoint == "http://127.0.0.1:4566"
    assert not prod.is_local and prod.endpoint is None
    assert local.signals == prod.signals == DEFAULT_SIGNALS
    assert local.namespace == prod.namespace == "default"
    # env file wins over defaults, deeply: prod sets the size, keeps the default retry duration
    assert prod.firehose.buffering_size_mb == 64
    assert prod.firehose.retry_duration_seconds == 300
    assert prod.tags == {"env": "prod", "owner": "observability"}


def test_command_line_overrides_win_and_reach_nested_keys():
    c = cfg.load(
        "prod",
        {
            "region": "eu-west-1",
            "endpoint": "http://127.0.0.1:4566",
            "firehose.buffering_interval_seconds": "0",
            "firehose.buffering_size_mb": "128",
            "signals": "traces,logs,exp_histogram",
            "tags": "{team: otel, cost-center: 42}",
            "tables.compaction_target_mb": "64",
        },
    )
    assert c.region == "eu-west-1"
    assert c.endpoint == "http://127.0.0.1:4566" and c.is_local
    assert c.firehose.buffering_interval_seconds == 0
    assert c.firehose.buffering_size_mb == 128
    assert c.signals == ("logs", "traces", "exp_histogram")  # canonical order
    # tags merge like any mapping: the command line adds to (or overrides) the env file's tags
    assert c.tags == {"env": "prod", "owner": "observability", "team": "otel", "cost-center": "42"}
    assert c.tables.compaction_target_mb == 64
    assert c.firehose.error_output_prefix == "errors/"  # untouched keys keep their merged value


def test_aws_endpoint_url_is_honoured_but_command_line_wins(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5000")
    assert cfg.load("prod").endpoint == "http://localhost:5000"
    assert cfg.load("prod", {"endpoint": "http://127.0.0.1:4566"}).endpoint == "http://127.0.0.1:4566"


def test_unknown_env_uses_defaults():
    c = cfg.load("staging")
    assert c.env == "staging" and c.endpoint is None and c.log_retention_days == 14


def test_deep_merge_does_not_mutate_inputs():
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    over = {"a": {"b": 3}, "d": [2]}
    assert cfg.deep_merge(base, over) == {"a": {"b": 3, "c": 2}, "d": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1]}


def test_setting_keys_match_defaults_file():
    defaults = cfg._read_yaml(REPO_CONFIG / "defaults.yaml")
    assert cfg.setting_keys(defaults) == cfg.setting_keys()
    assert "firehose.buffering_interval_seconds" in cfg.setting_keys()
    assert "tags" in cfg.setting_keys()


def test_names():
    c = cfg.load("otlp2pipeline-prod")  # the bash scripts accept the stack name as env
    assert c.env == "prod"
    assert c.stack_name == c.table_bucket_name == "otlp2pipeline-prod"
    assert c.error_bucket_name("123456789012") == "otlp2pipeline-prod-errors-123456789012-us-east-1"
    assert c.log_group_name == "/aws/kinesisfirehose/otlp2pipeline-prod"
    assert c.stream_name("logs") == "otlp2pipeline-prod-logs"
    assert c.error_prefix("logs") == "errors/logs/"
    assert c.all_tags == {"env": "prod", "otlp2pipeline-env": "prod", "owner": "observability"}
    assert cfg.normalize_env("otlp2pipeline-x") == "x"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "us-isob-east-1"])
def test_longest_env_fits_exactly(region):
    longest = cfg.max_env_length(region)
    c = cfg.load("a" * longest, {"region": region})
    assert len(c.error_bucket_name("123456789012")) == 63
    with pytest.raises(UserError, match=f"longest env that fits is {longest} characters"):
        cfg.load("a" * (longest + 1), {"region": region})


def test_doit_vars_config_reads_env_and_every_setting():
    doit_cmd.reset_vars()
    try:
        for key, value in {
            "env": "prod",
            "region": "eu-west-1",
            "signals": "logs,traces",
            "firehose.buffering_interval_seconds": "0",
            "tables.snapshot_max_age_hours": "24",
            "profile": "ops",
        }.items():
            doit_cmd.set_var(key, value)
        c = args.config()
    finally:
        doit_cmd._CMDLINE_VARS = None
    assert (c.env, c.region, c.signals, c.profile) == ("prod", "eu-west-1", ("logs", "traces"), "ops")
    assert c.firehose.buffering_interval_seconds == 0
    assert c.tables.snapshot_max_age_hours == 24


def test_readers_are_role_and_user_arns_with_their_paths():
    analyst = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Analyst_0a1b"
    grafana = "arn:aws:iam::123456789012:user/svc/grafana"
    assert cfg.load("prod", {"readers": f"{analyst},{grafana}"}).readers == (analyst, grafana)
    assert cfg.load("prod").readers == ()


def test_doit_vars_config_defaults_to_local():
    doit_cmd.reset_vars()
    try:
        assert args.config().env == "local"
    finally:
        doit_cmd._CMDLINE_VARS = None


# -- bad input: one line naming the value and the rule, no AWS call ----------------------------------

BAD_LOADS: list[tuple[str, dict[str, str], str]] = [
    # (env, overrides, text the one-line message must contain)
    ("Prod", {}, "'Prod'"),
    ("my env", {}, "'my env'"),
    ("", {}, "''"),
    ("xn--prod", {}, "'xn--prod'"),
    ("sthree-prod", {}, "'sthree-prod'"),
    ("amzn-s3-demo-prod", {}, "'amzn-s3-demo-prod'"),
    ("prod-s3alias", {}, "'prod-s3alias'"),
    ("prod--ol-s3", {}, "'prod--ol-s3'"),
    ("my_env", {}, "'my_env'"),
    ("-prod", {}, "'-prod'"),
    ("prod-", {}, "'prod-'"),
    ("a" * 20, {}, "'" + "a" * 20 + "'"),
    ("abcdefghijklmno", {"region": "ap-southeast-2"}, "'abcdefghijklmno'"),
    ("prod", {"region": "us-east-9"}, "'us-east-9'"),
    ("prod", {"region": "moon-base-1"}, "'moon-base-1'"),
    ("prod", {"region": ""}, "region=''"),
    ("prod", {"signals": ""}, "signals=[]"),
    ("prod", {"signals": "logs,metrics"}, "'metrics'"),
    ("prod", {"signals": "logs,logs"}, "'logs', 'logs'"),
    ("prod", {"firehose.buffering_interval_seconds": "901"}, "firehose.buffering_interval_seconds=901"),
    ("prod", {"firehose.buffering_interval_seconds": "-1"}, "firehose.buffering_interval_seconds=-1"),
    ("prod", {"firehose.buffering_interval_seconds": "soon"}, "firehose.buffering_interval_seconds='soon'"),
    ("prod", {"firehose.buffering_size_mb": "0"}, "firehose.buffering_size_mb=0"),
    ("prod", {"firehose.buffering_size_mb": "129"}, "firehose.buffering_size_mb=129"),
    ("prod", {"firehose.retry_duration_seconds": "7201"}, "firehose.retry_duration_seconds=7201"),
    ("prod", {"tables.compaction_target_mb": "63"}, "tables.compaction_target_mb=63"),
    ("prod", {"tables.compaction_target_mb": "513"}, "tables.compaction_target_mb=513"),
    ("prod", {"tables.snapshot_min_to_keep": "0"}, "tables.snapshot_min_to_keep=0"),
    ("prod", {"log_retention_days": "2"}, "log_retention_days=2"),
    ("prod", {"error_expiry_days": "0"}, "error_expiry_days=0"),
    ("prod", {"bogus": "1"}, "bogus=1"),
    ("prod", {"firehose.bogus": "1"}, "firehose.bogus=1"),
    ("prod", {"namespace": "My-Namespace"}, "'My-Namespace'"),
    ("prod", {"namespace": "aws_data"}, "'aws_data'"),
    ("prod", {"firehose.error_output_prefix": "/abs/"}, "'/abs/'"),
    ("prod", {"firehose.error_output_prefix": "errors"}, "'errors'"),
    ("prod", {"tags": "{'aws:owner': me}"}, "'aws:owner'"),
    ("prod", {"tags": "{'otlp2pipeline:env': x}"}, "'otlp2pipeline:env'"),
    ("prod", {"tags": "[a, b]"}, "tags=['a', 'b']"),
    ("prod", {"tags": "{team: 'a#b'}"}, "team='a#b'"),
    ("prod", {"endpoint": "ftp://127.0.0.1:21"}, "'ftp://127.0.0.1:21'"),
    ("prod", {"endpoint": "localhost:4566"}, "'localhost:4566'"),
    ("prod", {"profile": "my profile"}, "'my profile'"),
    ("prod", {"readers": "analyst"}, "readers[0]='analyst'"),
    (
        "prod",
        {"readers": "arn:aws:iam::123456789012:group/people"},
        "readers[0]='arn:aws:iam::123456789012:group",
    ),
    (
        "prod",
        {"readers": "arn:aws:sts::123456789012:assumed-role/a/b"},
        "readers[0]='arn:aws:sts::123456789012:assu",
    ),
    ("prod", {"readers": "arn:aws:iam::12345:role/a"}, "readers[0]='arn:aws:iam::12345:role/a'"),
    ("prod", {"readers": "arn:aws-cn:iam::123456789012:role/a"}, "readers[0]='arn:aws-cn:iam::123456789012:"),
    (
        "prod",
        {"readers": "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:role/a"},
        "readers lists 'arn:aws:iam::123456789012:role/a' twice",
    ),
    (
        "prod",
        {"readers": ",".join(f"arn:aws:iam::123456789012:role/{'r' * 60}{i}" for i in range(60))},
        "4096",
    ),
]


@pytest.mark.parametrize(("env", "overrides", "named"), BAD_LOADS)
def test_bad_input_is_refused_with_one_line(env, overrides, named):
    with pytest.raises(UserError) as info:
        cfg.load(env, overrides)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("error: ")
    assert named in message
    assert message.count(": ") >= 2  # "error: <the value>: <the rule>"


BAD_FILES: list[tuple[str, str, str]] = [
    # (file under the config dir, content, text the message must contain)
    ("envs/prod.yaml", "region: [us-east-1\n", "envs/prod.yaml line"),
    ("envs/prod.yaml", "regoin: us-east-1\n", "unknown setting regoin"),
    ("envs/prod.yaml", "firehose:\n  buffering_secs: 5\n", "unknown setting firehose.buffering_secs"),
    ("envs/prod.yaml", "firehose: 5\n", "firehose=5"),
    ("envs/prod.yaml", "region: us-east-1\nregion: eu-west-1\n", "duplicate key 'region'"),
    ("envs/prod.yaml", "- region\n", "must be a mapping"),
    ("envs/prod.yaml", "tables:\n  compaction_target_mb: 32\n", "tables.compaction_target_mb=32"),
    ("defaults.yaml", "region: us-east-1\n", "setting namespace is missing"),
    ("defaults.yaml", "region: 'us-east-1\n", "defaults.yaml line"),
]


@pytest.mark.parametrize(("name", "content", "named"), BAD_FILES)
def test_bad_config_file_is_refused_with_one_line(config_dir, name, content, named):
    (config_dir / name).write_text(content)
    with pytest.raises(UserError) as info:
        cfg.load("prod")
    message = str(info.value)
    assert "\n" not in message and message.startswith("error: ")
    assert named in message


def test_config_dir_override_is_used(config_dir):
    (config_dir / "envs" / "qa.yaml").write_text("region: eu-central-1\nsignals: [gauge]\n")
    c = cfg.load("qa")
    assert (c.region, c.signals) == ("eu-central-1", ("gauge",))
    assert cfg.config_files("qa") == [config_dir / "defaults.yaml", config_dir / "envs" / "qa.yaml"]


# -- the same refusals through `doit template`, as a user types them -----------------------------------

DOIT_BAD: list[tuple[list[str], str | None, str]] = [
    # (doit args, config file content for envs/prod.yaml or None, text the stderr line must contain)
    (["env=PROD"], None, "'PROD'"),
    (["env="], None, "env name ''"),
    (["env=prod", "output=/tmp"], None, "output='/tmp'"),
    (["env=my env"], None, "'my env'"),
    (["env=abcdefghijklmnopqrstu"], None, "longest env that fits is 19"),
    (["env=prod", "region=us-east-9"], None, "'us-east-9'"),
    (["env=prod", "signals="], None, "signals=[]"),
    (["env=prod", "signals=logs,spans"], None, "'spans'"),
    (
        ["env=prod", "firehose.buffering_interval_seconds=901"],
        None,
        "firehose.buffering_interval_seconds=901",
    ),
    (["env=prod", "tables.compaction_target_mb=32"], None, "tables.compaction_target_mb=32"),
    (["env=prod"], "region: [oops\n", "envs/prod.yaml line"),
    (["env=prod"], "buffering: 5\n", "unknown setting buffering"),
]


@pytest.mark.parametrize(("args", "prod_yaml", "named"), DOIT_BAD)
def test_doit_template_refuses_bad_input(tmp_path, args, prod_yaml, named):
    extra: dict[str, str] = {}
    if prod_yaml is not None:
        target = tmp_path / "config"
        shutil.copytree(REPO_CONFIG, target, ignore=shutil.ignore_patterns("schemas"))
        (target / "envs" / "prod.yaml").write_text(prod_yaml)
        extra[cfg.CONFIG_DIR_VAR] = str(target)
    with recording_endpoint() as endpoint:
        if not any(a.startswith("output=") for a in args):
            args = [*args, f"output={tmp_path / 'out.yaml'}"]
        proc = run_doit(tmp_path, args, no_credentials_env(endpoint.url, **extra))
        assert endpoint.connections == []
    lines = proc.stderr.splitlines()
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and named in lines[0]
    assert not (tmp_path / "out.yaml").exists()
