"""The env's Athena workgroup and results bucket in the stack: named as the stack, its configuration
enforced (results encrypted in the stack's bucket, the scan limit from `athena.bytes_scanned_cutoff_mb`),
deletable after it ran queries, and a results bucket as private, encrypted, expiring and TLS-only as the
error bucket."""

from __future__ import annotations

import pytest

from tasks import config as cfg
from tasks import template
from tasks.errors import UserError


def _resources(env: str = "prod", **overrides: str) -> dict:
    return template.parsed(cfg.load(env, overrides))["Resources"]


def test_the_workgroup_is_the_stacks_and_enforces_its_configuration():
    wg = _resources()["AthenaWorkGroup"]["Properties"]
    assert wg["Name"] == "otlp2pipeline-prod" and wg["State"] == "ENABLED"
    assert wg["RecursiveDeleteOption"] is True  # a workgroup that ran queries still deletes with the stack
    conf = wg["WorkGroupConfiguration"]
    assert conf["EnforceWorkGroupConfiguration"] is True
    assert conf["BytesScannedCutoffPerQuery"] == 100_000 * 10**6  # the default, 100 GB
    assert conf["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert conf["ResultConfiguration"] == {
        "OutputLocation": {"Fn::Sub": "s3://${AthenaResultsBucket}/results/"},
        "ExpectedBucketOwner": {"Ref": "AWS::AccountId"},
        "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
    }
    assert {"Key": "otlp2pipeline-env", "Value": "prod"} in wg["Tags"]


def test_the_scan_limit_follows_the_setting_and_null_means_none():
    conf = _resources(**{"athena.bytes_scanned_cutoff_mb": "10"})["AthenaWorkGroup"]["Properties"]
    assert conf["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"] == 10_000_000  # Athena's minimum
    conf = _resources(**{"athena.bytes_scanned_cutoff_mb": "null"})["AthenaWorkGroup"]["Properties"]
    assert "BytesScannedCutoffPerQuery" not in conf["WorkGroupConfiguration"]


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("athena.bytes_scanned_cutoff_mb", "9", "athena.bytes_scanned_cutoff_mb=9 is out of range"),
        ("athena.bytes_scanned_cutoff_mb", "lots", "athena.bytes_scanned_cutoff_mb='lots' is invalid"),
        ("athena.results_expiry_days", "0", "athena.results_expiry_days=0 is out of range"),
    ],
)
def test_bad_athena_settings_are_refused_in_one_line(key, value, named):
    with pytest.raises(UserError) as info:
        cfg.load("prod", {key: value})
    assert str(info.value).startswith(f"error: {named}") and "\n" not in str(info.value)


@pytest.mark.parametrize(("env", "ingest"), [("prod", "true"), ("local", "false")])
def test_the_results_bucket_is_private_encrypted_expiring_and_tls_only(env, ingest):
    res = _resources(env, **{"ingest.enabled": ingest, "athena.results_expiry_days": "3"})
    bucket = res["AthenaResultsBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Delete"  # query results are copies: destroy empties it first
    assert props["BucketName"] == {
        "Fn::Sub": f"otlp2pipeline-{env}-athena-${{AWS::AccountId}}-${{AWS::Region}}"
    }
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse == {"SSEAlgorithm": "AES256"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 3 and rule["Status"] == "Enabled"
    assert ("LoggingConfiguration" in props) == (ingest == "true")  # into the artifacts bucket with ingest
    (statement,) = res["AthenaResultsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_outputs_name_the_workgroup_and_the_results_bucket():
    c = cfg.load("prod")
    outputs = template.parsed(c)["Outputs"]
    assert outputs["AthenaWorkGroup"]["Value"] == {"Ref": "AthenaWorkGroup"}
    assert outputs["AthenaResultsBucket"]["Value"] == {"Ref": "AthenaResultsBucket"}
    assert list(outputs) == template.output_keys(c)


def test_the_results_bucket_name_fits_wherever_the_error_bucket_does():
    c = cfg.load("prod")
    assert len(c.athena_results_bucket_name("123456789012")) == len(c.error_bucket_name("123456789012"))
