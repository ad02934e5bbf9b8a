"""Small CloudFormation resource types moto 5.2.5 lacks: ``AWS::Logs::LogStream``, ``AWS::S3::BucketPolicy``.

Defining these ``CloudFormationModel`` subclasses registers them (emulator/server.py imports this module
before moto's model caches are used, and clears them).
"""

from __future__ import annotations

import json
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from emulator.cfn_model import CfnResource


class LogStream(CfnResource, CloudFormationModel):
    """Ref gives the log stream name."""

    CFN_TYPE = "AWS::Logs::LogStream"
    CFN_NAME_TYPE = "LogStreamName"

    def __init__(self, group: str, name: str) -> None:
        self.group = group
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        group = props["LogGroupName"]
        name = props.get("LogStreamName", resource_name)
        logs_backends[account_id][region_name].create_log_stream(group, name)
        return cls(group, name)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        group = props.get("LogGroupName", "")
        logs_backends[account_id][region_name].delete_log_stream(group, physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = logs_backends[account_id][region_name]
        if self.group in backend.groups:  # deleting the group already took its streams
            backend.delete_log_stream(self.group, self.name)


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
