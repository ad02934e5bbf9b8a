"""S3 in a stack: ``AWS::S3::BucketPolicy`` (moto 5.2.5 lacks it) and two fixes of moto's ``AWS::S3::Bucket``.

A stack's delete of a bucket that still holds objects, versions or delete markers fails, as on AWS (moto
skips the delete silently, so the stack ended DELETE_COMPLETE with the bucket left behind), and the
bucket's ``VersioningConfiguration`` takes effect (moto ignores it, so a versioned bucket kept no versions),
and so does its ``LoggingConfiguration`` (S3 server access logs, with PutBucketLogging's checks).
"""

from __future__ import annotations

import json
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from emulator.cloudformation.resources.base import CfnResource
from emulator.core.exceptions import AwsError


class BucketPolicy(CfnResource, CloudFormationModel):
    """Ref gives the bucket name."""

    CFN_TYPE = "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def _put(props: dict[str, Any], account_id: str, region_name: str) -> str:
        bucket = props["Bucket"]
        doc = props["PolicyDocument"]
        body = doc if isinstance(doc, str) else json.dumps(doc)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(bucket, body.encode())
        return str(bucket)

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        return cls(cls._put(props, account_id, region_name))

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        self._put(props, account_id, region_name)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if physical_id in backend.buckets:
            backend.delete_bucket_policy(physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        self.cfn_delete(self.bucket, {}, account_id, region_name)


_create_bucket = FakeBucket.create_from_cloudformation_json
_update_bucket = FakeBucket.update_from_cloudformation_json
_delete_bucket = FakeBucket.delete_from_cloudformation_json


def _versioning(bucket: FakeBucket, cloudformation_json: Any) -> FakeBucket:
    status = ((cloudformation_json.get("Properties") or {}).get("VersioningConfiguration") or {}).get(
        "Status"
    )
    if status:
        bucket.versioning_status = str(status)
    return bucket


def _logging(bucket: FakeBucket, cloudformation_json: Any, account_id: str, region_name: str) -> FakeBucket:
    """``LoggingConfiguration`` takes effect (moto ignored it), with PutBucketLogging's checks: the target
    bucket exists in the region and its policy (or ACL) lets the logging service write there."""
    config = (cloudformation_json.get("Properties") or {}).get("LoggingConfiguration")
    if not config:
        bucket.logging = {}
        return bucket
    wanted = {"TargetBucket": str(config.get("DestinationBucketName", ""))}
    prefix = str(config.get("LogFilePrefix") or "")
    if prefix:
        wanted["TargetPrefix"] = prefix
    target = s3_backends[account_id][get_partition(region_name)].buckets.get(wanted["TargetBucket"])
    if target is None or target.region_name != bucket.region_name:
        raise AwsError("InvalidTargetBucketForLogging", "The target bucket for logging does not exist", 400)
    if not _logging_allowed(target, prefix):
        raise AwsError(
            "InvalidTargetBucketForLogging",
            "You must either provide the necessary permissions to the logging service using a bucket "
            "policy or give the log-delivery group WRITE and READ_ACP permissions to the target bucket",
            400,
        )
    bucket.logging = wanted
    return bucket


def _logging_allowed(target: FakeBucket, prefix: str) -> bool:
    """An Allow for logging.s3.amazonaws.com to s3:PutObject on the prefix (moto's own check fails on a
    statement whose Principal is the string "*", such as a TLS-only Deny)."""
    if not target.policy:
        return False
    arn = f"arn:{target.partition}:s3:::{target.name}"
    for st in json.loads(target.policy.decode()).get("Statement", []):
        principal = st.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else services or []
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = st.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if (
            st.get("Effect") == "Allow"
            and "logging.s3.amazonaws.com" in services
            and "s3:PutObject" in actions
            and {f"{arn}/{prefix}*", f"{arn}/*"} & set(resources)
        ):
            return True
    return False


def _create_bucket_versioned(
    cls: type[FakeBucket],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> FakeBucket:
    bucket = _create_bucket(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    try:
        _versioning(bucket, cloudformation_json)
        return _logging(bucket, cloudformation_json, account_id, region_name)
    except AwsError:  # the failed resource's rollback removes what its create made
        s3_backends[account_id][get_partition(region_name)].delete_bucket(bucket.name)
        raise


def _update_bucket_versioned(
    cls: type[FakeBucket],
    original_resource: FakeBucket,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> FakeBucket:
    bucket = _update_bucket(
        original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    return _logging(_versioning(bucket, cloudformation_json), cloudformation_json, account_id, region_name)


def _delete_bucket_if_empty(
    cls: type[FakeBucket], resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    """What CloudFormation does: the bucket goes only when empty, otherwise the resource DELETE_FAILED."""
    bucket = s3_backends[account_id][get_partition(region_name)].buckets.get(resource_name)
    if bucket is not None and bucket.keys:  # every key with its versions and delete markers
        raise AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
    _delete_bucket(resource_name, cloudformation_json, account_id, region_name)


for _name, _hook in (
    ("create_from_cloudformation_json", _create_bucket_versioned),
    ("update_from_cloudformation_json", _update_bucket_versioned),
    ("delete_from_cloudformation_json", _delete_bucket_if_empty),
):
    setattr(FakeBucket, _name, classmethod(_hook))
