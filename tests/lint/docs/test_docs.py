"""What the docs point at exists: relative links, their anchors, and the repository paths they name.

Fast: no local AWS. tests/cli/docs/test_shell_blocks.py runs the shell blocks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_blocks import FENCE, ROOT, documents, heading_anchors, shell_blocks

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
# A path of ours in backticks: a top-level folder of the repository, then a path without placeholders.
TOP = "tasks|lake|ingest|emulator|verify|bench|tests|config|templates|tools|docs"
PATH = re.compile(rf"`(?P<path>(?:{TOP})/[\w./-]*)`")
PLACEHOLDER = re.compile(r"[A-Z]{2,}|<|\*")


def _prose(path: Path) -> str:
    """The file without its fenced blocks (a block's text is an example, not a reference)."""
    out, in_block = [], False
    for line in (ROOT / path).read_text().splitlines():
        if FENCE.match(line):
            in_block = not in_block
        elif not in_block:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("doc", documents(), ids=str)
def test_relative_links_and_their_anchors_exist(doc: Path) -> None:
    broken = []
    for m in LINK.finditer(_prose(doc)):
        target = m.group("target")
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (ROOT / doc).parent / file if file else ROOT / doc
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT)}")
        elif anchor and dest.suffix == ".md" and anchor not in heading_anchors(dest.relative_to(ROOT)):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{doc}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", documents(), ids=str)
def test_the_paths_named_exist(doc: Path) -> None:
    named = {m.group("path").rstrip(".") for m in PATH.finditer(_prose(doc))}
    missing = sorted(p for p in named if not PLACEHOLDER.search(p) and not (ROOT / p).exists())
    assert not missing, f"{doc} names paths that do not exist: {missing}"


def _other_env(line: str) -> bool:
    """A command for another env than local; `doit template` reaches no AWS, so it renders any env here."""
    if line.lstrip().startswith("doit template"):
        return False
    return re.search(r"\benv=(?!local\b)|--env (?!local\b)", line) is not None


def test_every_shell_block_is_bash_and_a_real_account_one_says_so() -> None:
    """A block for another env than local must be marked, or the block test would run it against AWS."""
    wrong = []
    for b in shell_blocks():
        if b.tag != "bash":
            wrong.append(f"{b.where}: tag {b.tag!r}, not 'bash'")
        elif not b.real_account and any(_other_env(line) for line in b.text.splitlines()):
            wrong.append(f"{b.where}: names another env than local without '# real account' first")
    assert not wrong, "\n".join(wrong)


def test_nothing_a_user_reads_speaks_of_how_the_project_was_built() -> None:
    said = []
    for doc in documents():
        for n, line in enumerate((ROOT / doc).read_text().splitlines(), 1):
            if re.search(r"\bissue[s]? #?[0-9]|\bseed\b(?![=:\"}])", line, re.I):
                said.append(f"{doc}:{n}: {line.strip()[:100]}")
    assert not said, "\n".join(said)
