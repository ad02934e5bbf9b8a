"""The docs' shell blocks, links and paths, read from README.md and docs/*.md.

The convention (docs/architecture.md, "Shell blocks in these docs"): a fenced block tagged `bash` runs as
pasted on env `local` once the quick start has run; a `bash` block whose first line is `# real account`
needs AWS credentials and a real account, and is not run here. Output, config files and other text use
other tags (`text`, `yaml`, `json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_ACCOUNT = "# real account"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<tag>[\w-]*)")


@dataclass(frozen=True)
class Block:
    path: Path  # relative to ROOT
    line: int  # the opening fence's line, 1-based
    tag: str
    text: str  # the block's lines, its fence's indent removed
    section: str  # the nearest heading above it

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def real_account(self) -> bool:
        return self.text.lstrip().startswith(REAL_ACCOUNT)


def documents() -> list[Path]:
    """README.md, then docs/*.md by name: the order the blocks run in."""
    return [Path("README.md"), *sorted(p.relative_to(ROOT) for p in (ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = (ROOT / path).read_text().splitlines()
    section = ""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].startswith("#"):
                section = lines[i].lstrip("#").strip()
            i += 1
            continue
        indent, start = m.group("indent"), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        found.append(Block(path, start + 1, m.group("tag"), "\n".join(body) + "\n", section))
        i += 1
    return found


def shell_blocks() -> list[Block]:
    return [b for p in documents() for b in blocks(p) if b.tag in ("bash", "sh", "shell", "console")]


def quick_start(block: Block) -> bool:
    """The README's two set-up blocks: .ci/run runs them on a clean clone; these tests run after them."""
    return block.path == Path("README.md") and block.section == "Quick start"


def heading_anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_block = False
    for line in (ROOT / path).read_text().splitlines():
        if FENCE.match(line):
            in_block = not in_block
        elif not in_block and line.startswith("#"):
            title = line.lstrip("#").strip().lower().replace("`", "")
            anchor = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            n = seen.get(anchor, 0)
            seen[anchor] = n + 1
            anchors.add(anchor if n == 0 else f"{anchor}-{n}")  # GitHub numbers a repeated heading
    return anchors
