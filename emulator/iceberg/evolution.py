"""What Iceberg's schema evolution allows in place (spec, "Schema Evolution"; table format v2).

A commit's ``add-schema`` is checked against the table's current schema, field id by field id, as an
Iceberg catalog does before it accepts the commit: a type changes only by promotion (``int`` to ``long``,
``float`` to ``double``, a wider decimal of the same scale), a field never becomes required, and a new
required field needs an initial default. Dropping and renaming fields are evolutions Iceberg allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.iceberg.schema import DECIMAL_RE, IcebergStoreError

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

PROMOTIONS = {("int", "long"), ("float", "double")}


def _promotable(old: str, new: str) -> bool:
    if old == new or (old, new) in PROMOTIONS:
        return True
    was, now = DECIMAL_RE.match(old), DECIMAL_RE.match(new)
    return bool(was and now and was.group(2) == now.group(2) and int(now.group(1)) >= int(was.group(1)))


def check_evolution(current: Schema, new: Schema) -> None:
    """Raise IcebergStoreError naming the first field ``new`` changes in a way Iceberg refuses."""
    for field in new.fields:
        try:
            old = current.find_field(field.field_id)
        except ValueError:
            old = None
        if old is None:
            if field.required and field.initial_default is None:
                raise IcebergStoreError(
                    f"Cannot add required column {field.name} (id {field.field_id}) without initial default"
                )
            continue
        if not _promotable(str(old.field_type), str(field.field_type)):
            raise IcebergStoreError(
                f"Cannot change column {field.name} (id {field.field_id}) from {old.field_type} to "
                f"{field.field_type}"
            )
        if field.required and not old.required:
            raise IcebergStoreError(
                f"Cannot make optional column {field.name} (id {field.field_id}) required"
            )
