"""Fixtures of the reliability tests only: the end-of-run summary's plugin."""

from __future__ import annotations

import pytest

from tests.reliability.summary import _PLUGIN


@pytest.fixture(autouse=True)
def reliability_summary(request: pytest.FixtureRequest) -> None:
    """Registers the summary plugin (once per process)."""
    if not request.config.pluginmanager.is_registered(_PLUGIN):
        request.config.pluginmanager.register(_PLUGIN, "reliability-summary")
