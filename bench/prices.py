"""The prices bench/ingest_cost.py turns measured bytes and CPU seconds into dollars, each with the AWS
page that publishes it. us-east-1 list prices as this project took them from those pages; nothing here
reads them again (the bench has no network), so a region or a later price change is a different figure.
GB is taken as 2^30 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    dollars: float
    per: str
    source: str
    note: str = ""


GIB = 2**30

PRICES: dict[str, Price] = {
    "firehose_iceberg_per_gb": Price(
        0.075,
        "GB ingested",
        "https://aws.amazon.com/firehose/pricing/ (Direct PUT, Apache Iceberg Tables destination)",
        "billed on the bytes of each record as sent, with no rounding of small records up to 5 KB "
        "(that rounding applies to Direct PUT into other destinations)",
    ),
    "lambda_arm64_per_gb_second": Price(
        0.0000133334,
        "GB-second",
        "https://aws.amazon.com/lambda/pricing/ (Arm price, first 6 billion GB-seconds a month)",
        "a function gets CPU in proportion to its memory, one vCPU at 1,769 MB "
        "(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so CPU-bound work costs "
        "its CPU seconds x 1,769/1,024 GB-s at any memory size up to that",
    ),
    "lambda_per_million_requests": Price(0.20, "1M requests", "https://aws.amazon.com/lambda/pricing/"),
    "s3_tables_storage_per_gb_month": Price(
        0.0265,
        "GB-month",
        "https://aws.amazon.com/s3/pricing/ (S3 Tables, first 50 TB a month)",
        "on the Parquet bytes stored; S3 Tables' per-object monitoring and compaction charges are left out",
    ),
}
LAMBDA_MB_PER_VCPU = 1769
