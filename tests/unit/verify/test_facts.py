"""docs/not-yet-confirmed.md names each of verify/facts.py's probes, and only those; the README links it."""

from __future__ import annotations

import re

from tests.cli import verify_helpers as vh
from verify.facts import FACTS

DOC = vh.ROOT / "docs" / "not-yet-confirmed.md"


def test_the_not_yet_confirmed_list_names_every_probe_and_only_those():
    text = DOC.read_text()
    named = {
        fact_id
        for listed in re.findall(r"[Cc]hecked by probes?\s+((?:`[a-z0-9-]+`[\s,]*(?:and\s+)?)+)", text)
        for fact_id in re.findall(r"`([a-z0-9-]+)`", listed)
    }
    assert named == {f.id for f in FACTS}
    readme = (vh.ROOT / "README.md").read_text()
    assert "docs/not-yet-confirmed.md" in readme
