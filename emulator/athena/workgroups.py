"""Athena workgroups: kept in moto's athena backend (so its tags and named queries agree with them), but
created, read, changed and deleted as Athena does, where moto is lax:

- ``CreateWorkGroup`` of an existing name: ``InvalidRequestException`` "WorkGroup NAME is already created"
  (moto answered a generic error); its configuration is checked against the botocore model (unknown
  members, enum values, ``BytesScannedCutoffPerQuery`` at least 10,000,000, types) and for what the local
  AWS cannot do: an output location that is no ``s3://`` URI, results in Athena-managed storage, an
  engine other than ``AUTO`` / ``Athena engine version 3``.
- ``GetWorkGroup`` / ``UpdateWorkGroup`` / ``DeleteWorkGroup`` of a missing name: ``InvalidRequestException``
  "WorkGroup NAME is not found." (moto answered ``null``, or deleted nothing and said yes).
- ``DeleteWorkGroup`` of ``primary`` is refused; of a workgroup that has run queries or holds named
  queries, unless ``RecursiveDeleteOption``: "WorkGroup NAME is not empty" (what CloudFormation's delete of
  a used workgroup fails with, unless the template sets ``RecursiveDeleteOption: true``).
- ``CreationTime`` is the creation's time (moto answered the time of each read).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from emulator.athena.exceptions import InvalidRequestException
from emulator.core import clock, validation

PRIMARY = "primary"
ENGINE_VERSIONS = ("AUTO", "Athena engine version 3")
EFFECTIVE_ENGINE = "Athena engine version 3"
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")


def backend(account_id: str, region: str) -> Any:
    from moto.athena.models import athena_backends

    return athena_backends[account_id][region]


def find(account_id: str, region: str, name: str) -> Any:
    wg = backend(account_id, region).work_groups.get(name)
    if wg is None:
        raise InvalidRequestException(f"WorkGroup {name} is not found.")
    if not hasattr(wg, "creation_time"):
        wg.creation_time = clock.now()
    return wg


def check_output_location(location: Any) -> None:
    if location is not None and not (isinstance(location, str) and _S3_URI.match(location)):
        raise InvalidRequestException(f"{location} is not a valid S3 path: use s3://BUCKET/PREFIX/")


def check_configuration(configuration: dict[str, Any], where: str = "configuration") -> None:
    """The model's rules, then what Athena (and the local AWS) refuse in a workgroup configuration."""
    validation.check(
        "athena", "WorkGroupConfiguration", configuration, where, "InvalidRequestException", patterns=True
    )
    check_output_location((configuration.get("ResultConfiguration") or {}).get("OutputLocation"))
    if (configuration.get("ManagedQueryResultsConfiguration") or {}).get("Enabled"):
        raise InvalidRequestException(
            "ManagedQueryResultsConfiguration: the local AWS keeps query results only in S3: set "
            "ResultConfiguration.OutputLocation instead"
        )
    selected = (configuration.get("EngineVersion") or {}).get("SelectedEngineVersion")
    if selected is not None and selected not in ENGINE_VERSIONS:
        raise InvalidRequestException(
            f"Invalid engine version {selected}: the local AWS runs {' or '.join(ENGINE_VERSIONS)}"
        )


def _stored(configuration: dict[str, Any]) -> dict[str, Any]:
    """The configuration as GetWorkGroup shows it: the engine version resolved, Athena's defaults filled."""
    out = copy.deepcopy(configuration)
    engine = dict(out.get("EngineVersion") or {})
    engine.setdefault("SelectedEngineVersion", "AUTO")
    engine["EffectiveEngineVersion"] = EFFECTIVE_ENGINE
    out["EngineVersion"] = engine
    out.setdefault("ResultConfiguration", {})
    out.setdefault("EnforceWorkGroupConfiguration", True)
    out.setdefault("PublishCloudWatchMetricsEnabled", False)
    out.setdefault("RequesterPaysEnabled", False)
    out.setdefault("EnableMinimumEncryptionConfiguration", False)
    return out


def create(
    account_id: str,
    region: str,
    name: str,
    configuration: dict[str, Any] | None,
    description: str | None,
    tags: list[dict[str, str]] | None,
) -> Any:
    be = backend(account_id, region)
    check_configuration(configuration or {})
    if name in be.work_groups:
        raise InvalidRequestException(f"WorkGroup {name} is already created")
    wg = be.create_work_group(name, _stored(configuration or {}), description or "", tags or [])
    wg.creation_time = clock.now()
    return wg


def replace_configuration(wg: Any, configuration: dict[str, Any]) -> None:
    """CloudFormation's update: the template's configuration is the workgroup's whole configuration."""
    check_configuration(configuration)
    wg.configuration = _stored(configuration)


def apply_updates(wg: Any, updates: dict[str, Any]) -> None:
    """``UpdateWorkGroup``'s ``ConfigurationUpdates``: each member given changes, a ``Remove*`` clears."""
    validation.check(
        "athena",
        "WorkGroupConfigurationUpdates",
        updates,
        "configurationUpdates",
        "InvalidRequestException",
        patterns=True,
    )
    cfg = copy.deepcopy(wg.configuration)
    result = dict(cfg.get("ResultConfiguration") or {})
    for key, value in (updates.get("ResultConfigurationUpdates") or {}).items():
        if key.startswith("Remove"):
            if value:
                result.pop(key.removeprefix("Remove"), None)
        else:
            result[key] = value
    cfg["ResultConfiguration"] = result
    if updates.get("RemoveBytesScannedCutoffPerQuery"):
        cfg.pop("BytesScannedCutoffPerQuery", None)
    if updates.get("RemoveCustomerContentEncryptionConfiguration"):
        cfg.pop("CustomerContentEncryptionConfiguration", None)
    skip = ("ResultConfigurationUpdates", "ManagedQueryResultsConfigurationUpdates")
    for key, value in updates.items():
        if key not in skip and not key.startswith("Remove"):
            cfg[key] = value
    if (updates.get("ManagedQueryResultsConfigurationUpdates") or {}).get("Enabled"):
        cfg["ManagedQueryResultsConfiguration"] = {"Enabled": True}
    replace_configuration(wg, cfg)


def delete(account_id: str, region: str, name: str, recursive: bool, in_use: Callable[[str], bool]) -> None:
    be = backend(account_id, region)
    find(account_id, region, name)
    if name == PRIMARY:
        raise InvalidRequestException("The primary workgroup cannot be deleted")
    named = [q for q in be.named_queries.values() if q.workgroup.name == name]
    if not recursive and (named or in_use(name)):
        raise InvalidRequestException(f"WorkGroup {name} is not empty")
    for query in named:
        be.named_queries.pop(query.id, None)
    be.delete_work_group(name)


def describe(wg: Any) -> dict[str, Any]:
    return {
        "Name": wg.name,
        "State": wg.state,
        "Configuration": copy.deepcopy(wg.configuration),
        "Description": wg.description or "",
        "CreationTime": wg.creation_time,
    }


def summary(wg: Any) -> dict[str, Any]:
    return {
        "Name": wg.name,
        "State": wg.state,
        "Description": wg.description or "",
        "CreationTime": wg.creation_time,
        "EngineVersion": copy.deepcopy(wg.configuration.get("EngineVersion") or {}),
    }


def listed(account_id: str, region: str) -> list[Any]:
    return [find(account_id, region, name) for name in sorted(backend(account_id, region).work_groups)]
