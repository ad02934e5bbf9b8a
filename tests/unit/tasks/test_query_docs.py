"""The ready-made questions docs/query.md shows are the tool's own (tasks/engines/sql.py), as
a shell passes them: the SQL a test runs through both engines is the SQL a user pastes."""

from __future__ import annotations

import itertools
import shlex

import pytest

from tasks.engines.sql import QUESTIONS
from tests.deploy_helpers import ROOT


def _pasted(doc: str) -> dict[str, str]:
    """Each `# title` line's following `doit query ... sql=...` command: title -> the sql= value."""
    lines = (ROOT / doc).read_text().splitlines()
    out = {}
    for title, command in itertools.pairwise(lines):
        if title.startswith("# ") and command.startswith("doit query "):
            words = shlex.split(command)
            out[title[2:]] = next(w.removeprefix("sql=") for w in words if w.startswith("sql="))
    return out


@pytest.mark.parametrize("doc", ["docs/query.md"])
def test_the_ready_made_questions_are_pasted_as_the_tool_asks_them(doc):
    pasted = _pasted(doc)
    assert [pasted.get(q.title) for q in QUESTIONS] == [q.sql for q in QUESTIONS]
