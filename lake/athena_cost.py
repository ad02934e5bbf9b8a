"""What an Athena query costs: its bytes scanned at Athena's price.

Amazon Athena pricing (https://aws.amazon.com/athena/pricing/, SQL queries, "per query"): $5.00 per TB of
data scanned, rounded up to the nearest megabyte, with a 10 MB minimum per query; failed queries and DDL
cost nothing, a cancelled query costs what it scanned. The price is us-east-1's (most regions have it; a
few charge more), taken from that page; nothing here reads it again. MB and TB are decimal here (10^6 and
10^12 bytes), as `BytesScannedCutoffPerQuery`'s own minimum, 10,000,000 bytes, is "10 MB".
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_PER_TB = 5.00
SOURCE = "https://aws.amazon.com/athena/pricing/"
MB = 10**6
TB = 10**12
MINIMUM_BYTES = 10 * MB
BILLED_STATES = ("SUCCEEDED", "CANCELLED")  # FAILED: not charged


@dataclass(frozen=True)
class Scan:
    """One query's bytes: what Athena read (DataScannedInBytes) and what it bills."""

    query_id: str
    state: str
    scanned_bytes: int
    cutoff_bytes: int | None = None  # the workgroup's BytesScannedCutoffPerQuery, when it has one

    @property
    def billed_bytes(self) -> int:
        if self.state not in BILLED_STATES:
            return 0
        rounded = -(-self.scanned_bytes // MB) * MB
        return max(rounded, MINIMUM_BYTES)

    @property
    def cost_usd(self) -> float:
        return self.billed_bytes / TB * PRICE_PER_TB

    @property
    def cut_off(self) -> bool:
        """Cancelled by the workgroup's scan limit (not by a StopQueryExecution): it read up to the limit."""
        return (
            self.state == "CANCELLED"
            and self.cutoff_bytes is not None
            and (self.scanned_bytes >= self.cutoff_bytes)
        )


def megabytes(n: int) -> str:
    """`0.04 MB`, `12.3 MB`, `1,204.5 MB`: decimal megabytes, as Athena bills."""
    value = n / MB
    return f"{value:,.2f} MB" if value < 10 else f"{value:,.1f} MB"


def line(scan: Scan) -> str:
    """One line: what the query read and what it costs, with the price's source."""
    billed = scan.billed_bytes
    if billed == 0:
        cost = "not billed (a failed query)"
    else:
        minimum = " (the 10 MB minimum)" if billed == MINIMUM_BYTES and scan.scanned_bytes < billed else ""
        price = f"${PRICE_PER_TB:.2f} per TB ({SOURCE})"
        cost = f"billed {megabytes(billed)}{minimum}: ${scan.cost_usd:.6f} at {price}"
    return f"athena: scanned {megabytes(scan.scanned_bytes)}, {cost}; query {scan.query_id}"
