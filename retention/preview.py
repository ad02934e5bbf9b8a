"""What the next run drops from a table, from its manifest list alone (one read): `plan` and `status`.

The manifest list gives each manifest's day bounds (its partition summary) and its live files and rows.
The oldest day is the lowest bound among live manifests. A manifest whose days all lie before the cutoff
goes whole: its files and rows are counted exactly. A manifest that spans the cutoff loses only its older
days: counted as `spanning`, its rows not added (the run itself reads such a manifest; `doit retention
dry_run=1` gives the exact figures, bytes included).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyiceberg.table.metadata import TableMetadata

from retention.drop import Planner, day_positions, live, lower_day, upper_day
from retention.windows import day_text, days_text


@dataclass(frozen=True)
class Preview:
    cutoff: int
    oldest: int | None  # None: the table holds no row (or no day-partitioned one)
    files: int = 0  # in manifests wholly before the cutoff
    rows: int = 0
    spanning: int = 0  # manifests holding days on both sides of the cutoff

    @property
    def drops(self) -> bool:
        return self.oldest is not None and self.oldest < self.cutoff

    @property
    def days(self) -> tuple[int, ...]:
        """Every day from the oldest to the one before the cutoff: the most the next run can drop."""
        return tuple(range(self.oldest, self.cutoff)) if self.oldest is not None and self.drops else ()

    def text(self) -> str:
        """`oldest day 2026-10-01; the next run drops days before 2026-10-11: 2026-10-01..2026-10-10 (10
        days), 12000 rows in 40 data files`."""
        if self.oldest is None:
            return "no rows yet; the next run drops nothing"
        head = f"oldest day {day_text(self.oldest)}; the next run drops "
        if not self.drops:
            return head + f"nothing (the window starts {day_text(self.cutoff)})"
        rows = f"{self.rows} rows in {self.files} data files"
        if self.spanning:
            rows += f", and the older days of {self.spanning} manifest(s) that span {day_text(self.cutoff)}"
        return head + f"days before {day_text(self.cutoff)}: at most {days_text(self.days)}, {rows}"


def preview(meta: TableMetadata, planner: Planner, cutoff: int) -> Preview:
    positions = day_positions(meta)
    oldest: int | None = None
    files = rows = spanning = 0
    for manifest in planner.manifests(meta):
        pos = positions.get(manifest.partition_spec_id)
        if pos is None or not live(manifest):
            continue
        low, high = lower_day(manifest, pos), upper_day(manifest, pos)
        if low is None:
            continue
        oldest = low if oldest is None else min(oldest, low)
        if high is not None and high < cutoff:
            files += int(manifest.added_files_count or 0) + int(manifest.existing_files_count or 0)
            rows += int(manifest.added_rows_count or 0) + int(manifest.existing_rows_count or 0)
        elif low < cutoff:
            spanning += 1
    return Preview(cutoff, oldest, files, rows, spanning)
