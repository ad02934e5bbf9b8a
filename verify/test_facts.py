"""One test per fact the tool could not confirm (verify/facts.py): on a real account each says "confirmed" or
fails with "differs: ..."; one that cannot be told here is skipped with the reason. On the local AWS every
fact answers the side the tool chose. The summary at the end lists every finding (verify/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from verify import probes
from verify.facts import FACTS, FINDING, Fact


@pytest.mark.parametrize("fact", FACTS, ids=[f.id for f in FACTS])
def test_fact(fact: Fact, probe_env: probes.ProbeEnv, record_property: Any) -> None:
    found = fact.probe(probe_env)
    record_property(FINDING, f"{fact.id}: {found.outcome}: {found.detail}")
    if found.outcome == "undetermined":
        pytest.skip(f"{fact.id}: undetermined: {found.detail}")
    assert found.outcome == "confirmed", f"{fact.id}: differs: {found.detail} (assumed: {fact.assumed})"
