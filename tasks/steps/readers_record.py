"""The record of readers: the principals deploy granted read access to, so it knows whom it may revoke.

Lake Formation keeps no grantor with a grant. The record is one SSM String parameter per env,
``/otlp2pipeline/ENV/readers``, its value the ARNs one per line, sorted; no parameter means no reader.
tasks/steps/readers.py writes it before it grants (the union of the old and the new readers) and after it
revokes (the new readers), so a run that fails half-way leaves a record that still names everyone holding
the tool's grants. `doit destroy` revokes the recorded readers' grants and deletes it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tasks.errors import error_code
from tasks.step import Context

DESCRIPTION = "Principals otlp2pipeline deploy granted read access to (Lake Formation); deploy revokes them"


def read(ctx: Context) -> tuple[str, ...] | None:
    """The recorded ARNs, or None when there is no record."""
    try:
        value = ctx.clients.ssm.get_parameter(Name=ctx.config.readers_record_name)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) != "ParameterNotFound":
            raise
        return None
    return tuple(sorted(line.strip() for line in str(value).splitlines() if line.strip()))


def write(ctx: Context, readers: list[str], *, exists: bool) -> None:
    """Create the record (tagged as every resource of the env) or overwrite it (SSM takes no tags then)."""
    kwargs: dict[str, Any] = {
        "Name": ctx.config.readers_record_name,
        "Value": "\n".join(sorted(readers)),
        "Type": "String",
        "Tier": "Standard",
        "Description": DESCRIPTION,
    }
    if not exists:
        tags = [{"Key": k, "Value": v} for k, v in ctx.config.all_tags.items()]
        try:
            ctx.clients.ssm.put_parameter(**kwargs, Tags=tags)
            return
        except ClientError as exc:  # made since it was read (another deploy): overwritten below
            if error_code(exc) != "ParameterAlreadyExists":
                raise
    ctx.clients.ssm.put_parameter(**kwargs, Overwrite=True)


def delete(ctx: Context) -> None:
    try:
        ctx.clients.ssm.delete_parameter(Name=ctx.config.readers_record_name)
    except ClientError as exc:
        if error_code(exc) != "ParameterNotFound":
            raise
