"""The template's and the Lake Formation role's IAM documents: parliament and least privilege."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks import config as cfg
from tasks import template
from tests.unit.tasks.template.rendered import ACCOUNT, ENVS, LINT_CASES, _config, _doc, _lint_case

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
        elif kind == "AWS::Lambda::Function":
            attrs[f"{name}.Arn"] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{props['FunctionName']}"
        elif kind == "AWS::SNS::Topic":  # Ref is the ARN
            attrs[name] = f"arn:aws:sns:{region}:{ACCOUNT}:{props['TopicName']}"
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
        elif res["Type"] == "AWS::IAM::ManagedPolicy":
            found.append((name, "identity", _resolve(props["PolicyDocument"], region, attrs)))
        elif res["Type"] in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
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
    signal_sets = set()
    for name, (case_env, _) in LINT_CASES.items():
        if case_env != env:
            continue
        config, text = _lint_case(name)
        signal_sets.add(config.signals)
        for where, kind, policy in _policies(yaml.safe_load(text), config.region):
            key = json.dumps(policy, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            assert "Fn::" not in key and "${" not in key, f"{where}: unresolved intrinsic"
            role_arn = f"arn:aws:iam::{ACCOUNT}:role/firehoserole-generated"
            assert _parliament(policy, kind, role_arn) == [], where
            assert _writes_on_star(policy) == [], where
    # Per signal set the Firehose role's and the ingest role's policies; two trusts, two bucket policies (the
    # error bucket's, the Athena results bucket's), the readers' managed policy (the same for every set), and
    # the ingest role under ingest.auth=iam (no token to read).
    assert len(seen) == 2 * len(signal_sets) + 5 + 1


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
