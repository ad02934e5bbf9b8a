"""SNS in a stack: ``AWS::SNS::Topic`` (moto's, corrected), ``AWS::SNS::Subscription`` and
``AWS::SNS::TopicPolicy`` (moto has neither).

moto's topic create passed every property, ``Tags`` included, as a topic attribute, and its update
deleted the topic and made it again, which dropped its subscriptions and its policy. Here the properties
are checked against the resource schemas, tags are tags, an update changes the topic in place
(``TopicName`` and ``FifoTopic`` are create-only: a change replaces it), and GetAtt gives ``TopicArn``
and ``TopicName``. A subscription's Ref is its ARN; an ``email`` / ``email-json`` one stays pending
confirmation (SNS mails a link first; the local AWS sends no mail). A topic policy sets the whole policy
of each topic it names, and its delete puts SNS's default policy back.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Self

from moto.core.common_models import CloudFormationModel
from moto.sns.models import SNSBackend, Topic, sns_backends

from emulator.cloudformation.resources.base import CfnResource
from emulator.cloudformation.resources.schema import check_properties

# Topic properties that are topic attributes (SetTopicAttributes names them the same).
_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig", "ArchivePolicy")
_SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope")
PENDING_PROTOCOLS = ("email", "email-json")


def _backend_of(arn: str, account_id: str, region: str) -> SNSBackend:
    parts = arn.split(":")
    if len(parts) == 6:
        return sns_backends[parts[4]][parts[3]]
    return sns_backends[account_id][region]


def _attribute(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _apply_topic(topic: Topic, props: dict[str, Any]) -> None:
    backend = topic.sns_backend
    for key in _TOPIC_ATTRIBUTES:
        backend.set_topic_attribute(topic.arn, _attr_name(key), _attribute(props.get(key, "")))
    wanted = {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []}
    stale = [k for k in backend.list_tags_for_resource(topic.arn) if k not in wanted]
    if stale:
        backend.untag_resource(topic.arn, stale)
    if wanted:
        backend.tag_resource(topic.arn, wanted)


def _attr_name(key: str) -> str:
    """moto keeps topic attributes as snake_case fields (kms_master_key_id, display_name)."""
    from moto.core.utils import camelcase_to_underscores

    return str(camelcase_to_underscores(key))


def _create_topic(
    cls: type[Topic],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kw: Any,
) -> Topic:
    props = check_properties("AWS::SNS::Topic", resource_name, cloudformation_json.get("Properties") or {})
    backend = sns_backends[account_id][region_name]
    attributes = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
    topic = backend.create_topic(resource_name, attributes)
    _apply_topic(topic, props)
    for sub in props.get("Subscription") or []:
        backend.subscribe(topic.arn, sub["Endpoint"], sub["Protocol"])
    return topic


def _update_topic(
    cls: type[Topic],
    original_resource: Topic,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Topic:
    props = check_properties(
        "AWS::SNS::Topic", original_resource.name, cloudformation_json.get("Properties") or {}
    )
    _apply_topic(original_resource, props)
    return original_resource


def _topic_attr(self: Topic, attribute_name: str) -> str:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "TopicArn":
        return str(self.arn)
    if attribute_name == "TopicName":
        return str(self.name)
    raise UnformattedGetAttTemplateException()


Topic.create_from_cloudformation_json = classmethod(_create_topic)  # type: ignore[assignment]
Topic.update_from_cloudformation_json = classmethod(_update_topic)  # type: ignore[assignment]
Topic.has_cfn_attr = classmethod(lambda cls, attr: attr in ("TopicArn", "TopicName"))  # type: ignore[assignment]
Topic.get_cfn_attribute = _topic_attr  # type: ignore[method-assign]


class TopicSubscription(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::Subscription"
    CFN_ATTRS = ("Arn",)

    def __init__(self, account_id: str, region: str, arn: str, topic_arn: str) -> None:
        self.account_id = account_id
        self.region = region
        self.arn = arn
        self.topic_arn = topic_arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @staticmethod
    def _attributes(backend: SNSBackend, arn: str, props: dict[str, Any]) -> None:
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if key in props:
                backend.set_subscription_attributes(arn, key, _attribute(props[key]))

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        spec = check_properties(cls.CFN_TYPE, resource_name, props)
        topic_arn = str(spec["TopicArn"])
        backend = _backend_of(topic_arn, account_id, region_name)
        sub = backend.subscribe(topic_arn, str(spec.get("Endpoint") or ""), str(spec["Protocol"]))
        if sub.protocol in PENDING_PROTOCOLS:
            sub.confirmed = False
            sub.attributes.update({"PendingConfirmation": "true", "ConfirmationWasAuthenticated": "false"})
        cls._attributes(backend, sub.arn, spec)
        return cls(account_id, region_name, sub.arn, topic_arn)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        spec = check_properties(self.CFN_TYPE, self.arn, props)
        self._attributes(_backend_of(self.topic_arn, account_id, region_name), self.arn, spec)

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        _backend_of(physical_id, account_id, region_name).unsubscribe(physical_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend_of(self.topic_arn, account_id, region_name).unsubscribe(self.arn)


class TopicPolicy(CfnResource, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::TopicPolicy"
    CFN_ATTRS = ("Id",)

    def __init__(self, account_id: str, region: str, policy_id: str, topics: list[str]) -> None:
        self.account_id = account_id
        self.region = region
        self.policy_id = policy_id
        self.topics = topics

    @property
    def physical_resource_id(self) -> str:
        return self.policy_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.policy_id

    @staticmethod
    def _set(topics: list[str], document: Any, account_id: str, region: str) -> None:
        text = document if isinstance(document, str) else json.dumps(document)
        for arn in topics:
            _backend_of(arn, account_id, region).set_topic_attribute(arn, "policy", text)

    @staticmethod
    def _reset(topics: list[str], account_id: str, region: str) -> None:
        for arn in topics:
            backend = _backend_of(arn, account_id, region)
            topic = backend.topics.get(arn)
            if topic is not None:  # gone with the stack already
                topic._policy_json = topic._create_default_topic_policy(
                    backend.region_name, topic.account_id, topic.name
                )

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        spec = check_properties(cls.CFN_TYPE, resource_name, props)
        topics = [str(t) for t in spec["Topics"]]
        cls._set(topics, spec["PolicyDocument"], account_id, region_name)
        return cls(account_id, region_name, f"{resource_name}-{uuid.uuid4().hex[:12]}", topics)

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        spec = check_properties(self.CFN_TYPE, self.policy_id, props)
        topics = [str(t) for t in spec["Topics"]]
        self._reset([t for t in self.topics if t not in topics], account_id, region_name)
        self._set(topics, spec["PolicyDocument"], account_id, region_name)
        self.topics = topics

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        cls._reset([str(t) for t in props.get("Topics") or []], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        self._reset(self.topics, account_id, region_name)
