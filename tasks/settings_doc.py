"""The settings table written out: the README's Markdown table and config/defaults.yaml, both from
tasks/settings_table.py, so neither can drift from what the validation checks.

    .venv/bin/python -m tasks.settings_doc            # the README's settings table (Markdown)
    .venv/bin/python -m tasks.settings_doc defaults   # config/defaults.yaml, comments and all
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from tasks.settings_table import TABLE, Setting

README_BEGIN = "<!-- settings:begin -->"
README_END = "<!-- settings:end -->"

DEFAULTS_HEADER = """\
# Defaults for every env. An env file (config/envs/ENV.yaml) is merged over these, deeply;
# `key=value` on the command line wins over both (dotted keys reach nested settings:
# firehose.buffering_interval_seconds=0). Each comment says what a value must be, then
# what it does.
# Written by `python -m tasks.settings_doc defaults` from tasks/settings_table.py: change the table.
"""
COMMENT_COLUMN = 35


def yaml_value(value: Any) -> str:
    """A default as YAML flow text (the table's defaults are scalars, flat lists and an empty mapping)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"[{', '.join(yaml_value(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _comment(setting: Setting) -> str:
    return f"must be {setting.rule}; {setting.doc}" if setting.doc else f"must be {setting.rule}"


def defaults_yaml() -> str:
    """config/defaults.yaml: every setting at its default, its rule and doc as its comment."""
    out = [DEFAULTS_HEADER.rstrip("\n")]
    section = ""
    for setting in TABLE:
        head, _, leaf = setting.key.rpartition(".")
        indent = "  " if head else ""
        if setting.heading:
            lead = f"{indent if head == section else ''}# "
            out += textwrap.wrap(setting.heading, 105, initial_indent=lead, subsequent_indent=lead)
        if head and head != section:
            out.append(f"{head}:")
        section = head
        line = f"{indent}{leaf}: {yaml_value(setting.default)}"
        out.append(f"{line:<{COMMENT_COLUMN - 1}} # {_comment(setting)}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The README's settings table: one row per setting."""
    rows = ["| setting | default | rule | what it does |", "|---|---|---|---|"]
    for s in TABLE:
        default = f"`{yaml_value(s.default)}`"
        rows.append(f"| `{s.key}` | {default} | {_cell(s.rule)} | {_cell(s.doc)} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["defaults"]:
        sys.stdout.write(defaults_yaml())
        return 0
    if not argv:
        sys.stdout.write(markdown_table())
        return 0
    sys.stderr.write(
        f"error: unknown argument {' '.join(argv)!r}: give none (the README table) or defaults\n"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
