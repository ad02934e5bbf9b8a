"""Trino's functions that DuckDB lacks, as DuckDB macros under Trino's names.

Athena runs Trino; `doit query` and the local AWS's Athena run DuckDB. Grafana's Athena data source expands
its time macros into Trino's `to_unixtime` and `from_unixtime` (`$__timeGroup(col, '1m')` becomes
`FROM_UNIXTIME(FLOOR(TO_UNIXTIME(col)/60)*60)`), and a latency panel wants `approx_percentile`. With these
macros (temporary, on the connection) both DuckDB connections run that SQL as Athena does:

- ``to_unixtime(t)``: seconds since the epoch as a double (Trino: the session zone, UTC, for a timestamp
  without one; DuckDB's ``epoch`` reads it as UTC, and both connections set the time zone to UTC);
- ``from_unixtime(s)``: a timestamp with time zone (Trino's is ``timestamp(3) with time zone``);
- ``approx_percentile(x, p)``: DuckDB's ``approx_quantile`` (a different sketch: the same value on exact
  data, within each sketch's error otherwise).

Only these one-signature forms exist (Trino's ``from_unixtime(s, zone)`` and weighted
``approx_percentile`` do not).
"""

from __future__ import annotations

MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO to_unixtime(t) AS epoch(t)",
    "CREATE OR REPLACE TEMP MACRO from_unixtime(s) AS to_timestamp(s)",
    "CREATE OR REPLACE TEMP MACRO approx_percentile(x, p) AS approx_quantile(x, p)",
)
