"""Which AWS operations only read, by name: the one list the tool and the local AWS share.

The tool's call counter (tasks/aws.py) counts reads and writes by it; the local AWS's fault injection
(emulator/admin/faults.py) fails only mutating calls. Here, so the emulator never imports tasks/.
"""

from __future__ import annotations

# "Load": the S3 Tables Iceberg REST endpoint's LoadTable (tasks/iceberg_rest.py, emulator/s3tables/rest.py).
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Search", "Lookup", "Validate", "Load")


def is_read(operation: str) -> bool:
    """True for an operation that only reads (GetTable, ListDeliveryStreams, DescribeStacks, ...)."""
    return operation.startswith(READ_PREFIXES)
