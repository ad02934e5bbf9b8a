"""Every test has its tier's marker (tests/conftest.py applies them by folder; pyproject.toml registers them
with --strict-markers), so `-m unit`, `-m cli` and the rest together select the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTS_DIR, TIERS, UNTIERED


def test_every_collected_test_has_a_tier_marker(request: pytest.FixtureRequest) -> None:
    assert request.config.stash[UNTIERED] == []
    assert request.node.get_closest_marker("unit") is not None


def test_every_test_file_lies_in_a_tier_folder() -> None:
    """Also when only part of the suite is collected: a test file outside TIERS' folders gets no marker."""
    outside = [
        str(path.relative_to(TESTS_DIR))
        for path in TESTS_DIR.rglob("test_*.py")
        if path.relative_to(TESTS_DIR).parts[0] not in TIERS
    ]
    assert outside == []


def test_the_tiers_are_the_registered_markers() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(TESTS_DIR).parent / "pyproject.toml").read_text())
    options = pyproject["tool"]["pytest"]["ini_options"]
    registered = {line.split(":")[0] for line in options["markers"]}
    assert set(TIERS.values()) <= registered
    assert "--strict-markers" in options["addopts"]
