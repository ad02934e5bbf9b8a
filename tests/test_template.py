"""The CloudFormation template and the Lake Formation role documents.

Every shipped env x every non-empty combination of signals (2 x 63 templates) is linted by cfn-lint
(errors, warnings and informational: nothing allowed), scanned by checkov (one run over all of them),
and every IAM policy document in it goes through parliament.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks import config as cfg
from tasks import schemas, template
from tasks.schemas import ALL_SIGNALS
from tests import tools
from tests.template_helpers import ROOT, no_credentials_env, recording_endpoint, run_doit

ENVS = ("local", "prod")
SUBSETS: list[tuple[str, ...]] = [
    combo for n in range(1, len(ALL_SIGNALS) + 1) for combo in itertools.combinations(ALL_SIGNALS, n)
]
ACCOUNT = "123456789012"
ALLOWED_CHECKOV_SKIPS = 3
LINT_CHUNKS = 3  # per env: 6 test items, so xdist spreads cfn-lint over both CI cores


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(cfg.CONFIG_DIR_VAR, raising=False)


@cache
def _config(env: str, signals: tuple[str, ...]) -> cfg.Config:
    return cfg.load(env, {"signals": ",".join(signals)})


@cache
def _rendered(env: str, signals: tuple[str, ...]) -> str:
    return template.render(_config(env, signals))


def _doc(env: str, signals: tuple[str, ...]) -> dict[str, Any]:
    return yaml.safe_load(_rendered(env, signals))


# -- checkov (first: the longest test, so xdist starts it right away) ----------------------------------


def _checkov_skips(doc: dict[str, Any]) -> dict[str, str]:
    skips = {}
    for res in doc["Resources"].values():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[skip["id"]] = skip.get("comment", "")
    return skips


def test_checkov_reports_no_failed_check(tmp_path):
    out = tmp_path / "templates"
    out.mkdir()
    resources = 0
    for env in ENVS:
        for signals in SUBSETS:
            (out / f"{env}-{'-'.join(signals)}.yaml").write_text(_rendered(env, signals))
            resources += len(_doc(env, signals)["Resources"])
    checkov = tools.checkov()
    proc = subprocess.run(
        [str(checkov), "-d", str(out), "-o", "json", "--framework", "cloudformation", "--skip-download"],
        capture_output=True,
        text=True,
        # offline (no guideline download); serial: xdist already keeps the other core busy with cfn-lint
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_PARALLELIZATION_TYPE": "none"},
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stdout)
    assert isinstance(report, dict), report  # one framework -> one report
    summary = report["summary"]
    failed = [(f["check_id"], f["resource"], f["file_path"]) for f in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0
    assert summary["resource_count"] == resources  # every template and resource was read
    assert summary["passed"] > 0
    assert proc.returncode == 0, proc.stderr[-2000:]
    skipped = {f["check_id"] for f in report["results"]["skipped_checks"]}
    declared = _checkov_skips(_doc("prod", ALL_SIGNALS))
    assert skipped <= set(declared)


def test_checkov_skips_are_few_and_explained():
    skips = _checkov_skips(_doc("prod", ALL_SIGNALS))
    assert 0 < len(skips) <= ALLOWED_CHECKOV_SKIPS
    for check_id, comment in skips.items():
        assert len(comment) > 40, f"{check_id} skip needs a written reason"


# -- cfn-lint ------------------------------------------------------------------------------------------


@cache
def _cfnlint() -> tuple[Any, Any]:
    """cfn-lint's config and rules, built once per process (building them is most of a lint's cost)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    config = ConfigMixIn(regions=["us-east-1"], include_checks=["I"])  # informational findings too
    return config, Runner(config).rules


def _lint(text: str) -> list[str]:
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    config, rules = _cfnlint()
    tpl, errors = decode_str(text)
    if errors:
        return [str(e) for e in errors]
    return [str(m) for m in run_template_by_data(tpl, config, rules)]


@pytest.mark.parametrize("chunk", range(LINT_CHUNKS))
@pytest.mark.parametrize("env", ENVS)
def test_cfn_lint_reports_nothing(env, chunk):
    findings = {}
    for signals in SUBSETS[chunk::LINT_CHUNKS]:
        matches = _lint(_rendered(env, signals))
        if matches:
            findings[",".join(signals)] = matches
    assert findings == {}


def test_cfn_lint_catches_a_broken_template():
    """The lint harness is live: a wrong property name must be reported."""
    broken = _rendered("prod", ("logs",)).replace("TargetFileSizeMB:", "TargetFileSizeMb:")
    assert any("E3002" in m or "TargetFileSizeMb" in m for m in _lint(broken))


# -- IAM policies: parliament, least privilege -----------------------------------------------------------

PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


def _fake_attributes(doc: dict[str, Any], region: str) -> dict[str, str]:
    """Values CloudFormation would give Ref/GetAtt, for the resource types the policies mention."""
    attrs: dict[str, str] = {}
    res = doc["Resources"]
    for name, r in res.items():
        props = r.get("Properties", {})
        kind = r["Type"]
        if kind == "AWS::S3Tables::TableBucket":
            arn = f"arn:aws:s3tables:{region}:{ACCOUNT}:bucket/{props['TableBucketName']}"
            attrs[f"{name}.TableBucketARN"] = attrs[name] = arn
        elif kind == "AWS::S3::Bucket":
            bucket = props["BucketName"]["Fn::Sub"].replace("${AWS::AccountId}", ACCOUNT)
            bucket = bucket.replace("${AWS::Region}", region)
            attrs[name] = bucket
            attrs[f"{name}.Arn"] = f"arn:aws:s3:::{bucket}"
        elif kind == "AWS::IAM::Role":
            attrs[name] = f"{name.lower()}-generated"
            attrs[f"{name}.Arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name.lower()}-generated"
        elif kind == "AWS::SecretsManager::Secret":  # Ref is the ARN, with its random suffix
            attrs[name] = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-AbCdEf"
        elif kind == "AWS::KMS::Key":  # Ref is the key id
            attrs[name] = "1234abcd-12ab-34cd-56ef-1234567890ab"
            attrs[f"{name}.Arn"] = f"arn:aws:kms:{region}:{ACCOUNT}:key/{attrs[name]}"
        elif kind == "AWS::SQS::Queue":
            attrs[f"{name}.Arn"] = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}-AbCdEf"
    for name, r in res.items():
        if r["Type"] == "AWS::S3Tables::Table":
            bucket = res["TableBucket"]["Properties"]["TableBucketName"]
            uid = hashlib.md5(name.encode()).hexdigest()
            table_arn = f"arn:aws:s3tables:{region}:{ACCOUNT}:bucket/{bucket}/table/{uid}"
            attrs[f"{name}.TableARN"] = attrs[name] = table_arn
    return attrs


def _resolve(node: Any, region: str, attrs: dict[str, str]) -> Any:
    """Resolve Ref / Fn::GetAtt / Fn::Sub with fake values, so policies become plain JSON."""
    values = {**PSEUDO, "AWS::Region": region, **attrs}
    if isinstance(node, list):
        return [_resolve(n, region, attrs) for n in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return values[arg]
            if key == "Fn::GetAtt":
                return values[f"{arg[0]}.{arg[1]}"]
            if key == "Fn::Sub":
                assert isinstance(arg, str)
                return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], arg)
        return {k: _resolve(v, region, attrs) for k, v in node.items()}
    return node


def _policies(doc: dict[str, Any], region: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, kind, resolved document) for every IAM policy document in a template."""
    attrs = _fake_attributes(doc, region)
    found = []
    for name, res in doc["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            trust = _resolve(props["AssumeRolePolicyDocument"], region, attrs)
            found.append((f"{name}.AssumeRolePolicyDocument", "trust", trust))
            for pol in props.get("Policies", []):
                resolved = _resolve(pol["PolicyDocument"], region, attrs)
                found.append((f"{name}.{pol['PolicyName']}", "identity", resolved))
        elif res["Type"] == "AWS::S3::BucketPolicy":
            found.append((f"{name}", "resource", _resolve(props["PolicyDocument"], region, attrs)))
    return found


def _parliament(doc: dict[str, Any], kind: str, role_arn: str = "") -> list[tuple[str, str]]:
    """Parliament findings. Trust policies carry no Resource (parliament requires one): the role's own
    ARN is what they govern, so it is added; the community CREDENTIALS_EXPOSURE auditor flags
    sts:AssumeRole itself, which is the purpose of a trust policy, so trust policies get the default
    auditors and every other document gets the community auditors too."""
    from parliament import analyze_policy_string

    doc = json.loads(json.dumps(doc))
    if kind == "trust":
        for st in doc["Statement"]:
            st.setdefault("Resource", role_arn)
    policy = analyze_policy_string(json.dumps(doc), include_community_auditors=kind != "trust")
    return [(f.issue, str(f.detail)) for f in policy.findings]


@cache
def _access_levels() -> dict[str, tuple[str, bool]]:
    """action -> (access level, can be scoped to a resource), from parliament's IAM definitions."""
    import parliament

    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    levels = {}
    for service in data:
        for priv in service["privileges"]:
            scoped = any(r["resource_type"] for r in priv["resource_types"])
            levels[f"{service['prefix']}:{priv['privilege']}".lower()] = (priv["access_level"], scoped)
    return levels


def _writes_on_star(doc: dict[str, Any]) -> list[str]:
    """Allowed write/permissions actions on Resource "*" that could have been scoped to a resource."""
    bad = []
    for st in doc["Statement"]:
        resources = st.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if st["Effect"] != "Allow" or "*" not in resources:
            continue
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for action in actions:
            level, scoped = _access_levels()[action.lower()]
            if level not in ("Read", "List") and scoped:
                bad.append(action)
    return bad


@pytest.mark.parametrize("env", ENVS)
def test_template_policies_pass_parliament(env):
    seen = set()
    for signals in SUBSETS:
        doc = _doc(env, signals)
        region = _config(env, signals).region
        for where, kind, policy in _policies(doc, region):
            key = json.dumps(policy, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            assert "Fn::" not in key and "${" not in key, f"{where}: unresolved intrinsic"
            role_arn = f"arn:aws:iam::{ACCOUNT}:role/firehoserole-generated"
            assert _parliament(policy, kind, role_arn) == [], where
            assert _writes_on_star(policy) == [], where
    # Per signal set the Firehose role's and the ingest role's policies; two trusts, one bucket policy.
    assert len(seen) == 2 * len(SUBSETS) + 3


def test_lf_role_documents_pass_parliament():
    for region in ("us-east-1", "eu-west-1", "us-gov-west-1"):
        # us-gov-west-1 is refused by load() (no Iceberg destination), but its partition's documents must lint
        config = dataclasses.replace(cfg.load("prod"), region=region)
        trust, policy = template.lf_role_documents(config, ACCOUNT)
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/S3TablesRoleForLakeFormation"
        assert _parliament(trust, "trust", role_arn) == []
        assert _parliament(policy, "identity") == []
        assert _writes_on_star(policy) == []


def test_lf_role_documents_content():
    trust, policy = template.lf_role_documents(cfg.load("prod", {"region": "eu-west-1"}), ACCOUNT)
    (st,) = trust["Statement"]
    assert st["Effect"] == "Allow"
    assert st["Principal"] == {"Service": "lakeformation.amazonaws.com"}
    assert set(st["Action"]) == {"sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext"}
    actions = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    expected = {
        "s3tables:ListTableBuckets",
        *(f"s3tables:{v}TableBucket" for v in ("Create", "Get", "Delete")),
        *(f"s3tables:{v}Namespace" for v in ("Create", "Get", "List", "Delete")),
        *(f"s3tables:{v}Table" for v in ("Create", "Get", "Delete", "Rename")),
        "s3tables:ListNamespaces",
        "s3tables:ListTables",
        "s3tables:GetTableMetadataLocation",
        "s3tables:UpdateTableMetadataLocation",
        "s3tables:GetTableData",
        "s3tables:PutTableData",
    }
    expected.discard("s3tables:ListNamespace")  # the action is ListNamespaces
    assert set(actions) == expected
    assert actions["s3tables:ListTableBuckets"] == "*"
    # IAM is global: one role serves every region of the account, so the scope is the account, not a region.
    bucket_scope = f"arn:aws:s3tables:*:{ACCOUNT}:bucket/*"
    for action, resource in actions.items():
        if action != "s3tables:ListTableBuckets":
            assert resource in (bucket_scope, f"{bucket_scope}/table/*"), action


def test_firehose_role_is_least_privilege():
    c = _config("prod", ("logs", "gauge"))
    doc = _doc("prod", ("logs", "gauge"))
    ((_, _, trust), (_, _, policy)) = [p for p in _policies(doc, c.region) if p[0].startswith("FirehoseRole")]
    (st,) = trust["Statement"]
    assert st["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert st["Action"] == "sts:AssumeRole"
    assert st["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}}
    bucket = c.table_bucket_name
    glue = f"arn:aws:glue:us-east-1:{ACCOUNT}"
    resources = {
        r
        for s in policy["Statement"]
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    assert resources >= {
        f"{glue}:catalog",
        f"{glue}:catalog/s3tablescatalog",
        f"{glue}:catalog/s3tablescatalog/{bucket}",
        f"{glue}:database/s3tablescatalog/{bucket}/default",
        f"{glue}:table/s3tablescatalog/{bucket}/default/logs",
        f"{glue}:table/s3tablescatalog/{bucket}/default/gauge",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{c.log_group_name}:log-stream:{c.log_stream_name('logs')}",
        f"arn:aws:s3:::{c.error_bucket_name(ACCOUNT)}/{c.firehose.error_output_prefix}*",
    }
    # nothing reaches another env's table bucket, tables of other signals, or other buckets
    for r in resources - {"*"}:
        assert bucket in r or r.endswith((":catalog", ":catalog/s3tablescatalog")), r
        assert "/traces" not in r and "/sum" not in r
    star = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert [s["Action"] for s in star] == [["lakeformation:GetDataAccess"]]


# -- tables, names, tags, outputs --------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_tables_match_the_schema_files(env):
    c = _config(env, ALL_SIGNALS)
    doc = _doc(env, ALL_SIGNALS)
    for signal in ALL_SIGNALS:
        schema = schemas.load(signal)
        props = doc["Resources"][template.table_logical_id(signal)]["Properties"]
        fields = props["IcebergMetadata"]["IcebergSchema"]["SchemaFieldList"]
        assert [(f["Id"], f["Name"], f["Type"], f["Required"]) for f in fields] == [
            (col.id, col.name, col.iceberg_type, col.required) for col in schema.columns
        ]
        ts = schema.column("timestamp")
        assert props["IcebergMetadata"]["IcebergPartitionSpec"] == {
            "Fields": [{"SourceId": ts.id, "Transform": "day", "Name": "timestamp_day", "FieldId": 1000}]
        }
        assert (props["TableName"], props["Namespace"], props["OpenTableFormat"]) == (
            signal,
            c.namespace,
            "ICEBERG",
        )
        assert props["Compaction"] == {"Status": "enabled", "TargetFileSizeMB": c.tables.compaction_target_mb}
        assert props["SnapshotManagement"] == {
            "Status": "enabled",
            "MinSnapshotsToKeep": c.tables.snapshot_min_to_keep,
            "MaxSnapshotAgeHours": c.tables.snapshot_max_age_hours,
        }


@pytest.mark.parametrize("signals", [("logs",), ("traces", "exp_histogram"), ALL_SIGNALS])
def test_only_the_env_signals_are_in_the_template(signals):
    doc = _doc("prod", signals)
    kinds: dict[str, list[dict[str, Any]]] = {}
    for res in doc["Resources"].values():
        kinds.setdefault(res["Type"], []).append(res)
    tables = sorted(r["Properties"]["TableName"] for r in kinds["AWS::S3Tables::Table"])
    streams = sorted(r["Properties"]["LogStreamName"] for r in kinds["AWS::Logs::LogStream"])
    assert tables == sorted(signals)
    assert streams == sorted(f"{s}-delivery" for s in signals)
    for single in (
        "AWS::S3Tables::TableBucket",
        "AWS::S3Tables::Namespace",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Function",
        "AWS::Lambda::Url",
        "AWS::SecretsManager::Secret",
    ):
        assert len(kinds[single]) == 1, single
    # The Firehose role and delivery log group, and the ingest function's own (ingest.enabled).
    assert len(kinds["AWS::IAM::Role"]) == len(kinds["AWS::Logs::LogGroup"]) == 2


def test_names_resources_and_settings():
    c = cfg.load("prod", {"error_expiry_days": "9", "log_retention_days": "60", "namespace": "otel"})
    res = template.parsed(c)["Resources"]
    assert res["TableBucket"]["Properties"]["TableBucketName"] == "otlp2pipeline-prod"
    assert res["TableBucket"]["Properties"]["EncryptionConfiguration"] == {"SSEAlgorithm": "AES256"}
    assert res["TableBucket"]["Properties"]["UnreferencedFileRemoval"] == {"Status": "Enabled"}
    assert res["Namespace"]["Properties"]["Namespace"] == "otel"
    assert res["LogGroup"]["Properties"] | {"Tags": None} == {
        "LogGroupName": "/aws/kinesisfirehose/otlp2pipeline-prod",
        "RetentionInDays": 60,
        "KmsKeyId": {"Fn::GetAtt": ["EnvKey", "Arn"]},  # the env's key (ingest.enabled)
        "Tags": None,
    }
    bucket = res["ErrorBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "otlp2pipeline-prod-errors-${AWS::AccountId}-${AWS::Region}"}
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 9 and rule["Status"] == "Enabled"
    (deny,) = res["ErrorBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@cache
def _taggable(resource_type: str) -> bool:
    """Whether CloudFormation can tag a resource type, from cfn-lint's shipped resource schemas."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return bool(schema.get("tagging", {}).get("taggable", "Tags" in schema.get("properties", {})))


def test_every_taggable_resource_carries_config_and_env_tags():
    c = cfg.load("prod", {"tags": "{team: otel}"})
    expected = [{"Key": k, "Value": v} for k, v in c.all_tags.items()]
    assert {"Key": "otlp2pipeline:env", "Value": "prod"} in expected
    assert {"Key": "team", "Value": "otel"} in expected
    untagged = []
    for name, res in template.parsed(c)["Resources"].items():
        if _taggable(res["Type"]):
            assert res["Properties"].get("Tags") == expected, name
        else:
            untagged.append(res["Type"])
    assert set(untagged) == {
        "AWS::S3Tables::Namespace",
        "AWS::Logs::LogStream",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Url",
        "AWS::Lambda::Permission",
        "AWS::KMS::Alias",
    }


def test_outputs_are_stable_and_complete():
    c = _config("prod", ("logs", "exp_histogram"))
    outputs = template.parsed(c)["Outputs"]
    assert list(outputs) == template.output_keys(c)
    assert set(template.OUTPUT_KEYS) <= set(outputs)
    for key in (
        "LogsTableArn",
        "LogsTableName",
        "LogsLogStreamName",
        "ExpHistogramTableArn",
        "ExpHistogramLogStreamName",
    ):
        assert key in outputs
    assert template.output_key("exp_histogram", "TableArn") == "ExpHistogramTableArn"
    assert outputs["FirehoseRoleArn"]["Value"] == {"Fn::GetAtt": ["FirehoseRole", "Arn"]}
    assert outputs["Namespace"]["Value"] == c.namespace
    assert outputs["Signals"]["Value"] == "logs,exp_histogram"


def test_values_with_yaml_special_characters_stay_data():
    c = cfg.load(
        "prod", {"tags": "{note: 'a: b - c @x', 'k=v': '1'}", "firehose.error_output_prefix": "e*r!/"}
    )
    res = template.parsed(c)["Resources"]
    tags = res["TableBucket"]["Properties"]["Tags"]
    assert {"Key": "note", "Value": "a: b - c @x"} in tags
    assert {"Key": "k=v", "Value": "1"} in tags
    assert _lint(template.render(c)) == []


def test_render_needs_no_aws_and_uses_pseudo_parameters():
    text = _rendered("prod", ALL_SIGNALS)
    assert ACCOUNT not in text
    assert "${AWS::AccountId}" in text and "${AWS::Region}" in text
    assert "!Sub" not in text and "!Ref" not in text and "!GetAtt" not in text  # long form only


# -- determinism and writing ----------------------------------------------------------------------------


def test_rendering_twice_gives_identical_bytes():
    c = cfg.load("prod")
    assert template.render(c) == template.render(c)
    assert template.render(cfg.load("prod")) == template.render(c)


def test_rendering_is_identical_across_processes(tmp_path):
    """Hash randomisation or dict order must not leak into the output."""
    script = (
        "import sys; from tasks import config, template; "
        "sys.stdout.write(template.render(config.load('prod')))"
    )
    outputs = set()
    for seed in ("1", "2", "random"):
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(proc.stdout)
    assert outputs == {template.render(cfg.load("prod"))}


def test_write_default_path_and_explicit_path(tmp_path, monkeypatch):
    monkeypatch.setattr(cfg, "BUILD_DIR", tmp_path / "build")
    c = cfg.load("prod")
    path = template.write(c)
    assert path == tmp_path / "build" / "prod" / "template.yaml"
    assert path.read_text() == template.render(c)
    before = path.stat().st_mtime_ns
    assert template.write(c) == path and path.stat().st_mtime_ns == before  # same bytes: not rewritten
    other = template.write(c, tmp_path / "x" / "t.yaml")
    assert other.read_bytes() == path.read_bytes()
    assert [p.name for p in other.parent.iterdir()] == ["t.yaml"]  # no temp file left behind


# -- `doit template` -----------------------------------------------------------------------------------------


def test_doit_template_writes_prints_and_is_up_to_date(tmp_path):
    out = tmp_path / "t.yaml"
    with recording_endpoint() as endpoint:
        url = endpoint.url
        env = no_credentials_env(url)
        first = run_doit(tmp_path, ["env=prod", f"output={out}"], env)
        second = run_doit(tmp_path, ["env=prod", f"output={out}"], env)
        changed = run_doit(tmp_path, ["env=prod", f"output={out}", "signals=logs"], env)
        assert endpoint.connections == []  # no AWS call, not even with an endpoint at hand
    assert first.returncode == 0, first.stderr
    assert str(out) in first.stdout.splitlines()
    # The endpoint is this machine's, so the ingest zip (and the function's runtime) is built for it.
    assert out.read_text() == template.render(cfg.load("prod", {"signals": "logs", "endpoint": url}))
    assert second.returncode == 0 and f"-- template {out}" in second.stdout  # up to date: not re-run
    assert changed.returncode == 0 and f".  template {out}" in changed.stdout  # a config value changed


def test_doit_template_default_path(tmp_path):
    env_name = f"tt{os.getpid() % 100000}"
    target = ROOT / "build" / env_name / "template.yaml"
    try:
        with recording_endpoint() as endpoint:
            url = endpoint.url
            proc = run_doit(tmp_path, [f"env={env_name}"], no_credentials_env(url))
        assert proc.returncode == 0, proc.stderr
        assert str(target) in proc.stdout
        assert target.read_text() == template.render(cfg.load(env_name, {"endpoint": url}))
    finally:
        target.unlink(missing_ok=True)
        if target.parent.exists():
            target.parent.rmdir()
