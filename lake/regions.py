"""Regions and partitions (botocore's data, no network), and the one ARN format.

The tool's Config builds every ARN through `arn` and refuses a region by `known_regions` and
`has_iceberg_destination`; the local AWS and bench read the same partition table.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

# Region names we accept: the shape, then botocore's partition data (no network) for existence.
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# Where Firehose has no Apache Iceberg destination (aws-facts.md, "Regions": the Firehose developer guide,
# Apache Iceberg "Considerations and limitations"): whole partitions, and single regions of `aws`.
NO_ICEBERG_PARTITIONS: dict[str, str] = {"aws-cn": "the China regions", "aws-us-gov": "AWS GovCloud (US)"}
NO_ICEBERG_REGIONS: tuple[str, ...] = ("ap-east-2", "ap-southeast-5", "ap-southeast-6", "mx-central-1")
_lock = threading.Lock()


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows Firehose or S3 in, in any partition."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("firehose", partition))
        regions.update(session.get_available_regions("s3", partition))
    return frozenset(regions)


@cache  # a fresh botocore session re-parses endpoints.json (~0.15 s, more under load) per session
def _partitions() -> Any:
    """One botocore session whose endpoint resolver answers every region's partition (read-only data)."""
    import botocore.session

    return botocore.session.get_session()


@cache
def partition(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov, ...), from botocore's data."""
    from botocore.exceptions import UnknownRegionError

    with _lock:  # the resolver is built on the first call: once, whichever thread asks first
        session = _partitions()
        try:
            return str(session.get_partition_for_region(region))
        except UnknownRegionError:  # an unknown region is refused by load(); keep ARNs well-formed anyway
            return "aws"


def arn(
    region: str, service: str, resource: str, account_id: str = "", *, arn_region: str | None = None
) -> str:
    """`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, PARTITION being `region`'s: the one ARN format.

    `arn_region` (default `region`) is what the ARN names: "" for global resources (IAM, S3 buckets),
    "*" in a policy that covers every region of the partition. Config.arn is this for an env's region.
    """
    where = region if arn_region is None else arn_region
    return f"arn:{partition(region)}:{service}:{where}:{account_id}:{resource}"


def has_iceberg_destination(region: str) -> bool:
    """Whether Firehose can deliver to Apache Iceberg tables in `region` (aws-facts.md, "Regions")."""
    return partition(region) not in NO_ICEBERG_PARTITIONS and region not in NO_ICEBERG_REGIONS


def no_iceberg_rule() -> str:
    """Why a region without Apache Iceberg destinations is refused: the rule, as one clause."""
    listed = [*NO_ICEBERG_PARTITIONS.values(), *NO_ICEBERG_REGIONS]
    return (
        "Amazon Data Firehose has no Apache Iceberg destination in "
        f"{', '.join(listed[:-1])} or {listed[-1]}; choose another region"
    )
