"""Fixtures of the template tests: no endpoint or config dir from the developer's shell."""

from __future__ import annotations

import pytest

from tasks import config as cfg


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv(cfg.CONFIG_DIR_VAR, raising=False)
