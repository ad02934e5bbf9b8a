"""Account setup: the Glue federated catalog `s3tablescatalog` over every table bucket of the region.

Created when missing with the exact CatalogInput the bash scripts use; when it exists only the fields that
differ are updated, and everything else it carries (other properties, description, parameters) is
written back unchanged. It is never deleted: other stacks and users of the account rely on it.

`AllowFullTableExternalDataAccess` is a top-level CatalogInput member (enum "True" | "False", glue model).
A catalog whose default permissions are not empty is in IAM access-control mode (the S3 Tables default since
2025): new databases and tables of every table bucket are then governed by IAM policies. That may be on
purpose for other users of the account, so it is a note, changed to Lake Formation mode only with repair=1.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tasks.config import CATALOG_NAME, Config
from tasks.errors import error_code
from tasks.step import Change, Context, Diff, Outcome, plain
from tasks.steps.lf_resource import resource_arn

NAME = "catalog"


DEFAULT_PERMISSIONS = ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions")
IAM_MODE = (
    "IAM access-control mode: its default permissions grant {who}, so new databases and tables of every "
    "table bucket are governed by IAM policies, not by Lake Formation grants"
)


@dataclass(frozen=True)
class Desired:
    catalog_input: dict[str, Any]
    repair: bool = False


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
        "AllowFullTableExternalDataAccess": "True",
    }


def desired(ctx: Context) -> Desired:
    return Desired(catalog_input(ctx.config, ctx.account_id), ctx.repair)


def observe(ctx: Context) -> Observed:
    try:
        return Observed(plain(ctx.clients.glue.get_catalog(CatalogId=CATALOG_NAME)["Catalog"]))
    except ClientError as exc:
        if error_code(exc) == "EntityNotFoundException":
            return Observed(None)
        raise


def _differences(want: dict[str, Any], have: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields of the desired input whose value differs (default permissions included)."""
    out: dict[str, tuple[Any, Any]] = {}
    fed_want, fed_have = want["FederatedCatalog"], have.get("FederatedCatalog") or {}
    for key, value in fed_want.items():
        if fed_have.get(key) != value:
            out[f"FederatedCatalog.{key}"] = (fed_have.get(key), value)
    for key in DEFAULT_PERMISSIONS:
        if (have.get(key) or []) != want[key]:
            out[key] = (have.get(key), want[key])
    key = "AllowFullTableExternalDataAccess"
    if have.get(key) != want[key]:
        out[key] = (have.get(key), want[key])
    return out


def iam_mode(catalog: dict[str, Any]) -> str | None:
    """What IAM access-control mode means for this catalog, or None in Lake Formation mode."""
    who = sorted(
        {
            str((p.get("Principal") or {}).get("DataLakePrincipalIdentifier"))
            for key in DEFAULT_PERMISSIONS
            for p in catalog.get(key) or []
        }
    )
    return IAM_MODE.format(who=", ".join(who)) if who else None


def diff(want: Desired, have: Observed) -> Diff[Desired, Observed]:
    res = f"glue catalog {CATALOG_NAME}"
    if have.catalog is None:
        return Diff([Change("create", res, {"CatalogInput": (None, want.catalog_input)})])
    fields = _differences(want.catalog_input, have.catalog)
    notes: list[str] = []
    mode = iam_mode(have.catalog)
    if mode and not want.repair:
        for key in DEFAULT_PERMISSIONS:
            fields.pop(key, None)
        notes.append(
            f"{res} is in {mode}; left alone, since changing it changes how every new database and table "
            "of the account is governed; run with repair=1 to switch it to Lake Formation mode"
        )
    reason = "only these fields; the rest is kept" + ("; repair=1" if mode and want.repair else "")
    return Diff([Change("update", res, fields, reason=reason)] if fields else [], notes=notes)


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


def apply(ctx: Context, d: Diff[Desired, Observed]) -> Outcome:
    want = d.desired
    have = d.observed
    glue = ctx.clients.glue
    if have.catalog is None:
        try:
            glue.create_catalog(Name=CATALOG_NAME, CatalogInput=want.catalog_input)
        except ClientError as exc:  # created meanwhile by someone else: converge on the next run
            if error_code(exc) != "AlreadyExistsException":
                raise
        ctx.facts.catalog_created = True
        return Outcome("created", [f"created {CATALOG_NAME}"])
    new = _input_from(have.catalog)
    new["FederatedCatalog"] = {
        **(new.get("FederatedCatalog") or {}),
        **want.catalog_input["FederatedCatalog"],
    }
    for key in DEFAULT_PERMISSIONS:
        if key in d.changes[0].fields:  # an IAM-mode catalog keeps its defaults unless repair=1
            new[key] = copy.deepcopy(want.catalog_input[key])
    new["AllowFullTableExternalDataAccess"] = want.catalog_input["AllowFullTableExternalDataAccess"]
    glue.update_catalog(CatalogId=CATALOG_NAME, CatalogInput=new)
    return Outcome("updated", [f"updated {', '.join(d.changes[0].fields)}"])


def report(have: Observed) -> list[tuple[str, str]]:
    if have.catalog is None:
        return [(f"catalog {CATALOG_NAME}", "missing")]
    fed = have.catalog.get("FederatedCatalog") or {}
    mode = iam_mode(have.catalog) or "Lake Formation mode (empty default permissions)"
    return [
        (
            f"catalog {CATALOG_NAME}",
            f"federated {fed.get('Identifier')} via {fed.get('ConnectionName')}; {mode}",
        )
    ]
