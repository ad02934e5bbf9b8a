"""Which data files a cutoff drops from a table, and the DELETE snapshot that drops them.

The decision is by partition value alone: a data file whose `day(timestamp)` partition is before the cutoff
holds only rows of whole days older than the window, so it is dropped whole; every other file is kept as it
is. No data file is opened. A manifest holding no such file stays in the new snapshot untouched; one that
holds some is written again with its other entries as EXISTING; the dropped entries go into one new
manifest per partition spec with status DELETED, as Iceberg's own delete does (pyiceberg's `_DeleteFiles`,
Java's ManifestFilterManager). The manifest list's partition summaries spare reading a manifest whose days
all lie inside the window. Manifests are immutable, so a run's retries read each one once (`Planner`).

The commit is one Iceberg REST CommitTableRequest: `add-snapshot` (operation `delete`, its summary updated
as Iceberg's are) and `set-snapshot-ref main`, with the requirements that the table is the same table and
`main` still points at the snapshot the plan read. A concurrent commit (Firehose's) fails that requirement
with 409, and the run plans again on the new head (run.py).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from pyiceberg.conversions import from_bytes
from pyiceberg.manifest import (
    ManifestContent,
    ManifestEntry,
    ManifestFile,
    write_manifest,
    write_manifest_list,
)
from pyiceberg.table.metadata import TableMetadata, TableMetadataUtil
from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
from pyiceberg.table.snapshots import (
    Operation,
    Snapshot,
    SnapshotSummaryCollector,
    Summary,
    update_snapshot_summaries,
)
from pyiceberg.table.update import (
    AddSnapshotUpdate,
    AssertRefSnapshotId,
    AssertTableUUID,
    SetSnapshotRefUpdate,
)
from pyiceberg.transforms import DayTransform
from pyiceberg.types import DateType

from retention.fileio import TableFiles

TIME_COLUMN = "timestamp"  # the contract's event time column; tables are partitioned by day(timestamp)
# pyiceberg's TableProperties names and defaults (pyiceberg.table imports more than the function needs).
AVRO_CODEC = ("write.avro.compression-codec", "gzip")
PARTITION_SUMMARY_LIMIT = ("write.summary.partition-limit", "0")
METADATA_PATH = "write.metadata.path"
# Snapshot summary properties of a retention delete: what it dropped and why (visible in the table's history).
CUTOFF_PROPERTY = "otlp2pipeline.retention.cutoff"
WINDOW_PROPERTY = "otlp2pipeline.retention.window-days"


class NotDayPartitioned(ValueError):
    """The table's current spec has no day(timestamp) field: retention cannot drop whole days."""


@dataclass(frozen=True)
class Dropped:
    """What a cutoff drops from one table: its days, data files, rows and bytes."""

    days: tuple[int, ...] = ()
    files: int = 0
    rows: int = 0
    bytes: int = 0


@dataclass
class Plan:
    """The files a cutoff drops from the table's current snapshot, and what stays."""

    metadata: TableMetadata
    cutoff: int
    keep: list[ManifestFile] = field(default_factory=list)  # carried into the new snapshot as they are
    rewrite: list[tuple[ManifestFile, list[ManifestEntry]]] = field(default_factory=list)  # entries kept
    deleted: list[ManifestEntry] = field(default_factory=list)
    day_of: dict[int, int] = field(default_factory=dict)  # spec id -> position of its day(timestamp) field

    @property
    def dropped(self) -> Dropped:
        days = sorted({int(e.data_file.partition[self.day_of[e.data_file.spec_id]]) for e in self.deleted})
        return Dropped(
            tuple(days),
            len(self.deleted),
            sum(int(e.data_file.record_count) for e in self.deleted),
            sum(int(e.data_file.file_size_in_bytes) for e in self.deleted),
        )


def parse(loaded: dict[str, Any]) -> TableMetadata:
    """LoadTable's `metadata` as pyiceberg's model."""
    return TableMetadataUtil.parse_obj(loaded["metadata"])


def day_positions(meta: TableMetadata) -> dict[int, int]:
    """spec id -> position of its day(timestamp) field, for every spec that has one."""
    try:
        source = meta.schema().find_field(TIME_COLUMN).field_id
    except ValueError:
        return {}
    out = {}
    for spec_id, spec in meta.specs().items():
        for pos, part in enumerate(spec.fields):
            if part.source_id == source and isinstance(part.transform, DayTransform):
                out[spec_id] = pos
    return out


def lower_day(manifest: ManifestFile, pos: int) -> int | None:
    """The manifest list's lower bound of the day field (None: unknown or only nulls)."""
    summaries = manifest.partitions or []
    bound = summaries[pos].lower_bound if pos < len(summaries) else None
    return None if bound is None else int(from_bytes(DateType(), bound))


def upper_day(manifest: ManifestFile, pos: int) -> int | None:
    summaries = manifest.partitions or []
    bound = summaries[pos].upper_bound if pos < len(summaries) else None
    return None if bound is None else int(from_bytes(DateType(), bound))


def live(manifest: ManifestFile) -> bool:
    """A data manifest that still holds files (one of only DELETED entries is not carried forward)."""
    return manifest.content == ManifestContent.DATA and (
        manifest.has_added_files() or manifest.has_existing_files()
    )


class Planner:
    """Plans drops for one table across a run's attempts; reads each manifest once (they are immutable)."""

    def __init__(self, files: TableFiles) -> None:
        self.files = files
        self._entries: dict[str, list[ManifestEntry]] = {}

    def manifests(self, meta: TableMetadata) -> list[ManifestFile]:
        snapshot = meta.current_snapshot()
        return [] if snapshot is None else snapshot.manifests(self.files)

    def entries(self, manifest: ManifestFile) -> list[ManifestEntry]:
        path = manifest.manifest_path
        if path not in self._entries:
            self._entries[path] = manifest.fetch_manifest_entry(self.files, discard_deleted=True)
        return self._entries[path]

    def plan(self, meta: TableMetadata, cutoff: int) -> Plan:
        positions = day_positions(meta)
        if meta.default_spec_id not in positions:
            raise NotDayPartitioned(
                f"its partition spec is not day({TIME_COLUMN}): retention drops whole days only"
            )
        out = Plan(meta, cutoff, day_of=positions)
        for manifest in self.manifests(meta):
            pos = positions.get(manifest.partition_spec_id)
            if manifest.content != ManifestContent.DATA:
                out.keep.append(manifest)  # delete files (none in an AppendOnly lake): never touched
                continue
            if not live(manifest):
                continue
            low = None if pos is None else lower_day(manifest, pos)
            if pos is None or (low is not None and low >= cutoff):
                out.keep.append(manifest)
                continue
            kept: list[ManifestEntry] = []
            dropped: list[ManifestEntry] = []
            for entry in self.entries(manifest):
                day = entry.data_file.partition[pos]
                (dropped if day is not None and int(day) < cutoff else kept).append(entry)
            if dropped:
                out.rewrite.append((manifest, kept))
                out.deleted += dropped
            else:
                out.keep.append(manifest)
        return out


def _metadata_path(meta: TableMetadata) -> str:
    return meta.properties.get(METADATA_PATH) or f"{meta.location.rstrip('/')}/metadata"


def delete_commit(
    plan: Plan, files: TableFiles, properties: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write the new manifests and manifest list; return the commit's (requirements, updates) as JSON."""
    meta = plan.metadata
    parent = meta.current_snapshot()
    assert parent is not None and plan.deleted
    schema, specs = meta.schema(), meta.specs()
    snapshot_id = meta.new_snapshot_id()
    sequence = meta.next_sequence_number()
    codec: Any = meta.properties.get(*AVRO_CODEC)
    commit = uuid.uuid4()
    numbers = count()
    folder = _metadata_path(meta)

    def writer(spec_id: int) -> Any:
        out = files.new_output(f"{folder}/{commit}-m{next(numbers)}.avro")
        return write_manifest(meta.format_version, specs[spec_id], schema, out, snapshot_id, codec)

    written: list[ManifestFile] = []
    by_spec: dict[int, list[ManifestEntry]] = defaultdict(list)
    for entry in plan.deleted:
        by_spec[entry.data_file.spec_id].append(entry)
    for spec_id, entries in by_spec.items():
        with writer(spec_id) as w:
            for entry in entries:
                w.delete(entry)
        written.append(w.to_manifest_file())
    for manifest, kept in plan.rewrite:
        if not kept:
            continue
        with writer(manifest.partition_spec_id) as w:
            for entry in kept:
                w.existing(entry)
        written.append(w.to_manifest_file())

    collector = SnapshotSummaryCollector(int(meta.properties.get(*PARTITION_SUMMARY_LIMIT)))
    for entry in plan.deleted:
        collector.remove_file(entry.data_file, schema, specs[entry.data_file.spec_id])
    summary = update_snapshot_summaries(
        Summary(operation=Operation.DELETE, **collector.build(), **properties), parent.summary
    )
    manifest_list = f"{folder}/snap-{snapshot_id}-1-{commit}.avro"
    with write_manifest_list(
        meta.format_version, files.new_output(manifest_list), snapshot_id, parent.snapshot_id, sequence, codec
    ) as lw:
        lw.add_manifests(written + plan.keep)
    # pyiceberg's models take their fields by the spec's names (aliases), as they read them from JSON.
    snapshot = Snapshot.model_validate(
        {
            "snapshot-id": snapshot_id,
            "parent-snapshot-id": parent.snapshot_id,
            "sequence-number": sequence,
            "timestamp-ms": int(time.time() * 1000),
            "manifest-list": manifest_list,
            "summary": summary,
            "schema-id": meta.current_schema_id,
        }
    )
    ref = {"ref-name": MAIN_BRANCH, "type": SnapshotRefType.BRANCH, "snapshot-id": snapshot_id}
    updates = [AddSnapshotUpdate(snapshot=snapshot), SetSnapshotRefUpdate.model_validate(ref)]
    requirements = [
        AssertTableUUID(uuid=meta.table_uuid),
        AssertRefSnapshotId.model_validate({"ref": MAIN_BRANCH, "snapshot-id": parent.snapshot_id}),
    ]
    return [_json(r) for r in requirements], [_json(u) for u in updates]


def _json(model: Any) -> dict[str, Any]:
    import json

    return dict(json.loads(model.model_dump_json()))
