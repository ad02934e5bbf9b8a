"""One settings table: config/defaults.yaml and the README's settings table are written from it, and the
validation names its rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks import config as cfg
from tasks import settings_doc
from tasks.errors import UserError
from tasks.settings_table import SETTINGS, TABLE, Kind

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_yaml_is_the_table_written_out():
    """Values and comments alike: `python -m tasks.settings_doc defaults > config/defaults.yaml`."""
    text = (ROOT / "config" / "defaults.yaml").read_text()
    assert text == settings_doc.defaults_yaml()
    # and it means what the table says
    loaded = yaml.safe_load(text)
    for s in TABLE:
        value = loaded
        for part in s.key.split("."):
            value = value[part]
        assert value == s.default, s.key
    assert cfg.setting_keys(loaded) == list(SETTINGS)


def test_every_default_comment_is_its_rule_and_doc():
    lines = {line.split(":")[0].strip(): line for line in settings_doc.defaults_yaml().splitlines()}
    for s in TABLE:
        line = lines[s.key.rpartition(".")[2]]
        assert line.split(" # ", 1)[1] == f"must be {s.rule}; {s.doc}", s.key


def test_readme_settings_table_is_generated():
    """`python -m tasks.settings_doc` prints what the README holds between its settings markers."""
    text = (ROOT / "README.md").read_text()
    begin = text.index(settings_doc.README_BEGIN) + len(settings_doc.README_BEGIN) + 1
    end = text.index(settings_doc.README_END)
    assert text[begin:end] == settings_doc.markdown_table()
    assert [row.split(" | ")[0] for row in text[begin:end].splitlines()[2:]] == [
        f"| `{key}`" for key in SETTINGS
    ]


def test_settings_doc_command(capsys):
    assert settings_doc.main([]) == 0
    assert capsys.readouterr().out == settings_doc.markdown_table()
    assert settings_doc.main(["defaults"]) == 0
    assert capsys.readouterr().out == settings_doc.defaults_yaml()
    assert settings_doc.main(["bogus"]) == 2


BOUNDED = [s for s in TABLE if s.lo is not None]


@pytest.mark.parametrize("setting", BOUNDED, ids=[s.key for s in BOUNDED])
def test_an_integer_out_of_its_rows_bounds_is_refused_with_its_rule(setting):
    """The validation reads the table: one below the row's low bound (and one above its high) is refused,
    and the error ends with the rule the README and defaults.yaml show."""
    assert setting.lo is not None
    bad = [setting.lo - 1] + ([setting.hi + 1] if setting.hi is not None else [])
    for value in bad:
        with pytest.raises(UserError) as err:
            cfg.load("prod", {setting.key: str(value)})
        assert str(err.value) == f"error: {setting.key}={value} is out of range: must be {setting.rule}"


def test_the_rule_of_a_refused_value_is_the_tables():
    for key, value in [
        ("namespace", "My-Namespace"),
        ("firehose.error_output_prefix", "/abs/"),
        ("log_retention_days", "2"),
        ("endpoint", "ftp://127.0.0.1:21"),
        ("profile", "my profile"),
        ("alarms.email", "not-an-address"),
    ]:
        with pytest.raises(UserError) as err:
            cfg.load("prod", {key: value})
        assert str(err.value).endswith(f"must be {SETTINGS[key].rule}"), key


def test_every_kind_is_read_from_the_command_line():
    """Each kind in the table is one the command line knows how to read."""
    assert {s.kind for s in TABLE} == set(Kind)
