"""The layer map holds: no import circle, no upward import, nothing imports tests/, and no `_private`
name crosses a module boundary (tools/layers.py prints the same)."""

from __future__ import annotations

from tools import layers


def test_layers_hold():
    report = layers.check()
    assert report.circles == []
    assert report.upward == []
    assert report.into_tests == []
    assert report.private == []
    assert layers.main() == 0


def test_a_private_name_taken_across_modules_is_found(tmp_path):
    for package in ("lake", "tasks"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "lake" / "a.py").write_text("_hidden = 1\n")
    (tmp_path / "tasks" / "b.py").write_text("from lake.a import _hidden\n")
    report = layers.check(tmp_path)
    assert len(report.private) == 1 and "imports _hidden from lake.a" in report.private[0]
