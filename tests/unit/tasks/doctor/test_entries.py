"""doctor's pure parts (tasks/doctor/): each Firehose error code maps to its troubleshooting entry, and
which STS actions a trust policy lacks."""

from __future__ import annotations

import pytest

from tasks import doctor
from tasks.doctor import (
    ENTRY_APPEND_ONLY,
    ENTRY_ASSUME_ROLE,
    ENTRY_CATALOG_NOT_FOUND,
    ENTRY_FIREHOSE_GRANTS,
    ENTRY_GLUE_PERMISSIONS,
    ENTRY_RECORD_SHAPE,
)


@pytest.mark.parametrize(
    ("code", "entry"),
    [
        ("Iceberg.MissingColumnWithinRecord", ENTRY_RECORD_SHAPE),
        ("Iceberg.InsufficientLakeFormationPermissions", ENTRY_FIREHOSE_GRANTS),
        ("Iceberg.RoleAssumptionFailed", ENTRY_ASSUME_ROLE),
        ("Iceberg.InvalidCatalogARN", ENTRY_CATALOG_NOT_FOUND),
        ("Iceberg.InvalidUniqueKeys", ENTRY_APPEND_ONLY),
        ("Iceberg.NoSuchTable", ENTRY_GLUE_PERMISSIONS),
        ("Iceberg.SomeCatalogProblem", ENTRY_CATALOG_NOT_FOUND),  # by family
        ("Glue.AccessDeniedException", ENTRY_GLUE_PERMISSIONS),
    ],
)
def test_error_codes_map_to_a_seed_troubleshooting_entry(code, entry):
    assert doctor.troubleshooting_entry(code) == entry


def test_an_unknown_error_code_points_at_doctor():
    assert "doit doctor" in doctor.troubleshooting_entry("Iceberg.Whatever")


def test_missing_sts_actions_only_counts_lake_formation_statements():
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lakeformation.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            },
            {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:SetContext"},
        ]
    }
    assert doctor.missing_sts_actions(trust) == ["sts:SetContext"]
    trust["Statement"][0]["Action"] = "sts:*"
    assert doctor.missing_sts_actions(trust) == []
    assert doctor.missing_sts_actions(None) == list(doctor.STS_ACTIONS)
