"""Small CloudFormation resource types moto 5.2.5 lacks: ``AWS::Logs::LogStream``, ``AWS::S3::BucketPolicy``.

Defining these ``CloudFormationModel`` subclasses registers them (emulator/server.py imports this module
before moto's model caches are used, and clears them).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition


class LogStream(CloudFormationModel):
    """Ref gives the log stream name."""

    def __init__(self, group: str, name: str) -> None:
        self.group = group
        self.name = name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::LogStream"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "LogStreamName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LogStream:
        props = cloudformation_json.get("Properties", {})
        group = props["LogGroupName"]
        name = props.get("LogStreamName", resource_name)
        logs_backends[account_id][region_name].create_log_stream(group, name)
        return cls(group, name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: LogStream,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LogStream:
        return original_resource  # both properties are create-only: changes replace it

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        group = cloudformation_json.get("Properties", {}).get("LogGroupName", "")
        logs_backends[account_id][region_name].delete_log_stream(group, resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = logs_backends[account_id][region_name]
        if self.group in backend.groups:  # deleting the group already took its streams
            backend.delete_log_stream(self.group, self.name)


class BucketPolicy(CloudFormationModel):
    """Ref gives the bucket name."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @staticmethod
    def _put(props: dict[str, Any], account_id: str, region_name: str) -> str:
        bucket = props["Bucket"]
        doc = props["PolicyDocument"]
        body = doc if isinstance(doc, str) else json.dumps(doc)
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(bucket, body.encode())
        return str(bucket)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> BucketPolicy:
        return cls(cls._put(cloudformation_json.get("Properties", {}), account_id, region_name))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: BucketPolicy,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> BucketPolicy:
        cls._put(cloudformation_json.get("Properties", {}), account_id, region_name)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if resource_name in backend.buckets:
            backend.delete_bucket_policy(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.bucket, {}, account_id, region_name)
