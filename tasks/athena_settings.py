"""The env's Athena settings (`athena.*`): the stack's workgroup and its results bucket
(templates/athena.yaml.j2), where `doit query engine=athena` runs.

- `athena.results_expiry_days`: query results (CSV and metadata in the results bucket) expire after this many
  days (1-3650).
- `athena.bytes_scanned_cutoff_mb`: the workgroup's `BytesScannedCutoffPerQuery` in decimal megabytes (at
  least 10: Athena's minimum, 10,000,000 bytes), or null for no limit. A query that would read more is
  cancelled by Athena, and costs what it read up to the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lake.athena_cost import MB
from tasks.errors import UserError

MIN_CUTOFF_MB = 10  # BytesScannedCutoffPerQuery >= 10,000,000 (athena model)
MAX_CUTOFF_MB = 10**9  # a petabyte: anything above is no limit at all (use null)


@dataclass(frozen=True)
class AthenaSettings:
    results_expiry_days: int = 7
    bytes_scanned_cutoff_mb: int | None = 100_000

    @property
    def cutoff_bytes(self) -> int | None:
        """BytesScannedCutoffPerQuery, or None for no limit."""
        mb = self.bytes_scanned_cutoff_mb
        return None if mb is None else mb * MB


def _whole(value: Any, key: str, lo: int, hi: int) -> int:
    rule = f"an integer from {lo} to {hi}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"error: {key}={value!r} is invalid: must be {rule}")
    if not lo <= value <= hi:
        raise UserError(f"error: {key}={value} is out of range: must be {rule}")
    return value


def athena_settings(raw: Any) -> AthenaSettings:
    section = raw if isinstance(raw, dict) else {}
    cutoff = section.get("bytes_scanned_cutoff_mb")
    return AthenaSettings(
        results_expiry_days=_whole(section.get("results_expiry_days"), "athena.results_expiry_days", 1, 3650),
        bytes_scanned_cutoff_mb=None
        if cutoff is None
        else _whole(cutoff, "athena.bytes_scanned_cutoff_mb", MIN_CUTOFF_MB, MAX_CUTOFF_MB),
    )
