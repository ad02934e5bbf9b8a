"""The moto ``CloudFormationModel`` hooks our resource types share, driven by three class attributes.

A mixin, not a ``CloudFormationModel`` subclass: moto finds resource types through
``CloudFormationModel.__subclasses__()`` (direct subclasses only), so each model still names it:
``class LogStream(CfnResource, CloudFormationModel)``. A model sets ``CFN_TYPE``, ``CFN_NAME_TYPE``
and ``CFN_ATTRS`` and implements ``cfn_create`` and ``cfn_delete``; ``cfn_update`` defaults to "every
property is create-only" (a change replaces the resource, so the update itself does nothing).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class CfnResource:
    CFN_TYPE: ClassVar[str]
    CFN_NAME_TYPE: ClassVar[str] = ""
    CFN_ATTRS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.CFN_NAME_TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.CFN_ATTRS

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Self:
        raise NotImplementedError

    def cfn_update(self, props: dict[str, Any], account_id: str, region_name: str) -> None:
        """In-place update; the default is for types whose properties are all create-only."""

    @classmethod
    def cfn_delete(cls, physical_id: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
        """Delete by physical id (and the template's properties), as moto's stack delete does."""
        raise NotImplementedError

    @classmethod
    def cfn_import(
        cls, identifier: dict[str, str], props: dict[str, Any], account_id: str, region_name: str
    ) -> Self:
        """The existing resource `identifier` (its type schema's primaryIdentifier) names, for a stack import;
        raises when there is none. Types that support import override it."""
        from emulator.cloudformation.exceptions import ValidationError

        raise ValidationError(f"ResourceType {cls.CFN_TYPE} does not support import")

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Self:
        props = cloudformation_json.get("Properties", {})
        return cls.cfn_create(resource_name, props, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Self,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Self:
        original_resource.cfn_update(cloudformation_json.get("Properties", {}), account_id, region_name)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls.cfn_delete(resource_name, cloudformation_json.get("Properties", {}), account_id, region_name)
