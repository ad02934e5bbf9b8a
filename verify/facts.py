"""Every AWS fact the tool relies on without a confirmation, with the probe that confirms it on a real account
(verify/probes.py). docs/not-yet-confirmed.md lists the same facts by these ids; a test checks the two
agree. `pytest verify/ --env ENV` runs one test per fact (verify/test_facts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verify import probes, table_probes

FINDING = "fact"  # the user property each fact's test records its finding under (verify/conftest.py)


@dataclass(frozen=True)
class Fact:
    id: str
    assumed: str  # what the tool and the local AWS assume (the side chosen while it is open)
    probe: Callable[[probes.ProbeEnv], probes.Finding]


FACTS: tuple[Fact, ...] = (
    Fact(
        "append-only-described",
        "DescribeDeliveryStream returns AppendOnly for an Iceberg destination",
        probes.append_only_described,
    ),
    Fact(
        "absent-optional-column-is-null",
        "a record without an optional column lands with the column null",
        probes.absent_optional_column,
    ),
    Fact(
        "unknown-record-key-refused",
        "a record with a top-level key that is not a column goes to the error bucket",
        probes.unknown_record_key,
    ),
    Fact(
        "string-timestamp-refused",
        "a timestamp that is not integer epoch microseconds goes to the error bucket",
        probes.string_timestamp,
    ),
    Fact(
        "trust-external-id-delivers",
        "Firehose assumes the stream role under the trust policy's sts:ExternalId = account condition",
        probes.trust_external_id,
    ),
    Fact(
        "s3tables-tag-colon-refused",
        "S3 Tables refuses ':' in a tag key (CloudFormation's S3 Tables schema lists none)",
        probes.s3tables_tag_colon,
    ),
    Fact(
        "url-event-limit-413",
        "a Function URL answers 413 when the event (a binary body base64) exceeds 6,291,456 bytes",
        probes.url_event_limit,
    ),
    Fact(
        "url-needs-both-permissions",
        "a NONE-auth Function URL needs lambda:InvokeFunctionUrl and lambda:InvokeFunction",
        probes.url_needs_both_permissions,
    ),
    Fact(
        "blocked-runtime-refused",
        "CreateFunction refuses a runtime blocked for create (python3.7): InvalidParameterValueException",
        probes.blocked_runtime,
    ),
    Fact(
        "unreleased-runtime-refused",
        "CreateFunction refuses python3.15, which botocore lists and cfn-lint's lifecycle data does not",
        probes.unreleased_runtime,
    ),
    Fact(
        "function-runtime-active",
        "the ingest function's runtime (the newest released python3.*) runs in the env's region",
        probes.function_runtime_active,
    ),
    Fact(
        "zip-checksum-returned",
        "HeadObject with ChecksumMode ENABLED returns ChecksumSHA256 for the zip put with one",
        probes.zip_checksum_returned,
    ),
    Fact(
        "lf-privileged-access-described",
        "Lake Formation DescribeResource returns WithPrivilegedAccess",
        probes.lf_privileged_access_described,
    ),
    Fact(
        "lf-listing-includes-child-catalog-grants",
        "ListPermissions without a resource includes the grants in the s3tablescatalog child catalogs",
        probes.lf_listing_includes_child_catalog_grants,
    ),
    Fact(
        "stack-events-page-size",
        "DescribeStackEvents pages hold 100 events",
        probes.stack_events_page_size,
    ),
    Fact(
        "s3tables-rest-evolves-in-place",
        "the S3 Tables Iceberg REST endpoint reads a table and commits add-schema + set-current-schema "
        "(int to long, a new optional column) with the tool's requirements, and refuses long to int",
        table_probes.rest_evolves_in_place,
    ),
    Fact(
        "s3tables-new-table-maintenance",
        "a new S3 Tables table has compaction enabled at 512 MB and snapshot management 1 snapshot / 120 h",
        table_probes.new_table_maintenance,
    ),
)
