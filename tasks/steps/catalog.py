"""Account setup: the Glue federated catalog `s3tablescatalog` over every table bucket of the region.

Created when missing with the exact CatalogInput the seed uses; when it exists only the fields that
differ are updated, and everything else it carries (other properties, description, parameters) is
written back unchanged. It is never deleted: other stacks and users of the account rely on it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.config import CATALOG_NAME, Config
from tasks.step import Change, Context, Diff, Outcome, error_code, plain
from tasks.steps.lf_resource import resource_arn

NAME = "catalog"


@dataclass(frozen=True)
class Desired:
    catalog_input: dict[str, Any]


@dataclass(frozen=True)
class Observed:
    catalog: dict[str, Any] | None


def catalog_input(config: Config, account_id: str) -> dict[str, Any]:
    return {
        "FederatedCatalog": {
            "Identifier": resource_arn(config, account_id),
            "ConnectionName": "aws:s3tables",
        },
        "CreateDatabaseDefaultPermissions": [],
        "CreateTableDefaultPermissions": [],
        "CatalogProperties": {"CustomProperties": {"AllowFullTableExternalDataAccess": "true"}},
    }


def desired(ctx: Context) -> Desired:
    return Desired(catalog_input(ctx.config, ctx.account_id))


def observe(ctx: Context) -> Observed:
    try:
        return Observed(plain(ctx.clients.glue.get_catalog(CatalogId=CATALOG_NAME)["Catalog"]))
    except ClientError as exc:
        if error_code(exc) == "EntityNotFoundException":
            return Observed(None)
        raise


def _differences(want: dict[str, Any], have: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields of the desired input whose value differs; custom properties compared key by key."""
    out: dict[str, tuple[Any, Any]] = {}
    fed_want, fed_have = want["FederatedCatalog"], have.get("FederatedCatalog") or {}
    for key, value in fed_want.items():
        if fed_have.get(key) != value:
            out[f"FederatedCatalog.{key}"] = (fed_have.get(key), value)
    for key in ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"):
        if (have.get(key) or []) != want[key]:
            out[key] = (have.get(key), want[key])
    props_have = ((have.get("CatalogProperties") or {}).get("CustomProperties")) or {}
    for key, value in want["CatalogProperties"]["CustomProperties"].items():
        if props_have.get(key) != value:
            out[f"CatalogProperties.CustomProperties.{key}"] = (props_have.get(key), value)
    return out


def diff(want: Desired, have: Observed) -> Diff:
    res = f"glue catalog {CATALOG_NAME}"
    if have.catalog is None:
        return Diff([Change("create", res, {"CatalogInput": (None, want.catalog_input)})])
    fields = _differences(want.catalog_input, have.catalog)
    return Diff(
        [Change("update", res, fields, reason="only these fields; the rest is kept")] if fields else []
    )


def _input_from(catalog: dict[str, Any]) -> dict[str, Any]:
    """The existing catalog as a CatalogInput: only members the input shape accepts."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("glue")
    return dict(_project(catalog, model.shape_for("CatalogInput")))


def _project(value: Any, shape: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _project(v, shape.members[k]) for k, v in value.items() if k in shape.members}
    if shape.type_name == "list" and isinstance(value, list):
        return [_project(v, shape.member) for v in value]
    return value


def apply(ctx: Context, d: Diff) -> Outcome:
    want: Desired = d.desired
    have: Observed = d.observed
    glue = ctx.clients.glue
    if have.catalog is None:
        try:
            glue.create_catalog(Name=CATALOG_NAME, CatalogInput=want.catalog_input)
        except ClientError as exc:  # created meanwhile by someone else: converge on the next run
            if error_code(exc) != "AlreadyExistsException":
                raise
        return Outcome("created", [f"created {CATALOG_NAME}"], {"catalog_created": True})
    new = _input_from(have.catalog)
    new["FederatedCatalog"] = {
        **(new.get("FederatedCatalog") or {}),
        **want.catalog_input["FederatedCatalog"],
    }
    for key in ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"):
        new[key] = copy.deepcopy(want.catalog_input[key])
    props = new.setdefault("CatalogProperties", {})
    props["CustomProperties"] = {
        **(props.get("CustomProperties") or {}),
        **want.catalog_input["CatalogProperties"]["CustomProperties"],
    }
    glue.update_catalog(CatalogId=CATALOG_NAME, CatalogInput=new)
    return Outcome("updated", [f"updated {', '.join(d.changes[0].fields)}"])


def report(have: Observed) -> list[tuple[str, str]]:
    if have.catalog is None:
        return [(f"catalog {CATALOG_NAME}", "missing")]
    fed = have.catalog.get("FederatedCatalog") or {}
    return [(f"catalog {CATALOG_NAME}", f"federated {fed.get('Identifier')} via {fed.get('ConnectionName')}")]
